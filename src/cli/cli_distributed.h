// Data-parallel runs of `pplug train` and `pplug eval`: `--nproc N` starts N local workers
// (each a copy of this command line without --nproc, with torchrun's environment), and a worker
// joins its group from that environment (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT), which
// torchrun or a cluster's launcher sets just as well.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

#include "pplug/distributed.h"

namespace pplug::cli {

// Thrown by a verb that has finished with an exit code of its own (the launcher's); main
// returns it.
struct ExitWith {
  int code = 0;
};

// The command line pplug was started with (argv[0] first); main records it.
void set_command_line(int argc, char** argv);

struct DistributedArgs {
  int nproc = 1;
  int timeout_s = 300;
  std::string file_store;  // rendezvous through this file instead of rank 0's TCP store
};

// Registers --nproc, --dist-timeout and --dist-file-store on `cmd`.
void add_distributed_options(CLI::App* cmd, DistributedArgs& a);

// With --nproc N > 1: runs the N workers and throws ExitWith their result. Otherwise returns.
void launch_workers_if_asked(const DistributedArgs& a);

// This process's group when the environment names one of more than one rank, else null.
std::shared_ptr<Communicator> join_group_from_env(const DistributedArgs& a);

// `args` without `--flag VALUE` and `--flag=VALUE`.
std::vector<std::string> without_option(const std::vector<std::string>& args,
                                        const std::string& flag);

}  // namespace pplug::cli
