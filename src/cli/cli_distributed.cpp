#include "cli/cli_distributed.h"

#include <chrono>
#include <cstdlib>

#include "cli/cli_common.h"
#include "pplug/error.h"
#include "pplug/local_launcher.h"

namespace pplug::cli {
namespace {

std::vector<std::string>& command_line() {
  static std::vector<std::string> args;
  return args;
}

}  // namespace

void set_command_line(int argc, char** argv) { command_line().assign(argv, argv + argc); }

void add_distributed_options(CLI::App* cmd, DistributedArgs& a) {
  cmd->add_option("--nproc", a.nproc,
                  "Data-parallel processes on this machine (each with cores / N threads unless "
                  "--threads says); across machines, start one per rank with torchrun's RANK, "
                  "WORLD_SIZE, MASTER_ADDR, MASTER_PORT instead")
      ->capture_default_str()
      ->check(int_in(1, 256));
  cmd->add_option("--dist-timeout", a.timeout_s,
                  "Seconds a rank waits for the others (start-up, each exchange) before failing")
      ->capture_default_str()
      ->check(int_in(1, 24 * 3600));
  cmd->add_option("--dist-file-store", a.file_store,
                  "Rendezvous through this file (on a file system every rank shares; a fresh "
                  "path per run) instead of a TCP store on MASTER_ADDR:MASTER_PORT");
}

std::vector<std::string> without_option(const std::vector<std::string>& args,
                                        const std::string& flag) {
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == flag) {
      ++i;  // and its value
      continue;
    }
    if (args[i].rfind(flag + "=", 0) == 0) continue;
    out.push_back(args[i]);
  }
  return out;
}

void launch_workers_if_asked(const DistributedArgs& a) {
  if (a.nproc <= 1) return;
  if (std::getenv("WORLD_SIZE") != nullptr) {
    throw InvalidArgument("--nproc " + std::to_string(a.nproc) +
                          ": this process is already a worker (WORLD_SIZE is set); drop --nproc");
  }
  if (command_line().empty()) throw Error("--nproc: the command line was not recorded");
  throw ExitWith{run_local_workers(a.nproc, without_option(command_line(), "--nproc"))};
}

std::shared_ptr<Communicator> join_group_from_env(const DistributedArgs& a) {
  DistributedConfig config = distributed_config_from_env();
  if (config.world_size <= 1) return nullptr;
  config.timeout = std::chrono::seconds(a.timeout_s);
  config.file_store = a.file_store;
  return std::make_shared<Communicator>(config);
}

}  // namespace pplug::cli
