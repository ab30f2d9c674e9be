// The worker the multi-process tests start (tests/dist/*_test.cpp): one rank of a group, which
// runs a scenario and writes what it saw to OUT_DIR/rank<R>.jsonl, one JSON object per line.
//
//   dist_worker SCENARIO OUT_DIR TIMEOUT_MS [FILE_STORE]   one rank; RANK etc. from the environment
//   dist_worker launch NPROC GRACE_MS SCENARIO OUT_DIR TIMEOUT_MS
//                                                          NPROC ranks through run_local_workers
//
// Scenarios: collectives, join, die-after-first, stall-after-first (the last rank misbehaves
// after one allreduce), fail-fast and ignore-term (rank 1 exits with 3 while the others sleep,
// the latter ignoring SIGTERM), sleep, ok.
#include <signal.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "pplug/distributed.h"
#include "pplug/error.h"
#include "pplug/local_launcher.h"

namespace {

using nlohmann::json;

class Journal {
 public:
  Journal(const std::string& dir, int rank)
      : out_(dir + "/rank" + std::to_string(rank) + ".jsonl") {}
  void write(json line) {
    out_ << line.dump() << std::endl;
  }  // flushed: a killed rank's
     // progress stays readable
 private:
  std::ofstream out_;
};

std::vector<double> values(const torch::Tensor& t) {
  const auto flat = t.to(torch::kDouble).contiguous().reshape({-1});
  return {flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel()};
}

// The string each rank contributes to all_gather_strings: lengths differ, rank 0's is empty,
// and the others hold a NUL byte.
std::string rank_string(int rank) {
  if (rank == 0) return "";
  return std::string(static_cast<size_t>(rank) * 7, static_cast<char>('a' + rank)) +
         std::string("\0|", 2) + std::to_string(rank);
}

void collectives(pplug::Communicator& comm, Journal& journal) {
  const int r = comm.rank();
  // Inputs the test recomputes for every rank: float32, float64, and a non-contiguous view.
  std::vector<torch::Tensor> mean{
      torch::arange(6, torch::kFloat).reshape({2, 3}) * (r + 1),
      torch::arange(1, 6, torch::kDouble).reciprocal() + 10.0 * r,
      (torch::arange(6, torch::kFloat).reshape({2, 3}) * (r - 0.25)).t()};
  comm.allreduce_mean(mean);
  journal.write(
      {{"event", "allreduce_mean"},
       {"values", {values(mean[0]), values(mean[1]), values(mean[2])}},
       {"dtypes", {c10::toString(mean[0].scalar_type()), c10::toString(mean[1].scalar_type())}},
       {"shapes", {mean[0].sizes().vec(), mean[2].sizes().vec()}}});

  // Again with more float32 elements than before: the kept buffer must grow.
  std::vector<torch::Tensor> larger{torch::full({1000}, r * 1.0f), torch::full({10}, r * 1.0f)};
  comm.allreduce_mean(larger);
  const auto all = torch::cat({larger[0], larger[1]});
  journal.write({{"event", "allreduce_mean_larger"},
                 {"min", all.min().item<double>()},
                 {"max", all.max().item<double>()}});

  auto sum = torch::tensor({r + 1, 2 * (r + 1)}, torch::kLong);
  comm.allreduce_sum(sum);
  journal.write({{"event", "allreduce_sum"}, {"values", values(sum)}});

  for (int root = 0; root < std::min(2, comm.world_size()); ++root) {
    // Two float32 tensors (packed into one buffer, one of them a view) and an int64 one.
    std::vector<torch::Tensor> tensors{torch::full({3}, 100.0f + r),
                                       torch::full({2}, static_cast<int64_t>(r), torch::kLong),
                                       torch::full({2, 2}, 100.0f + r).t()};
    comm.broadcast(tensors, root);
    journal.write({{"event", "broadcast"},
                   {"root", root},
                   {"values", {values(tensors[0]), values(tensors[1]), values(tensors[2])}}});
  }

  const auto strings = comm.all_gather_strings(rank_string(r));
  json gathered = json::array();
  for (int k = 0; k < static_cast<int>(strings.size()); ++k) {
    gathered.push_back(strings[static_cast<size_t>(k)] == rank_string(k));
  }
  journal.write({{"event", "all_gather_strings"}, {"matches", gathered}});

  comm.check_same("task", "LaMP_3");
  journal.write({{"event", "check_same_passed"}});
  try {
    comm.check_same("model fingerprint", r == 1 ? "fp-bbbb" : "fp-aaaa");
    journal.write({{"event", "check_same_missed"}});
  } catch (const pplug::MismatchError& e) {
    journal.write({{"event", "check_same_failed"}, {"message", e.what()}});
  }
  comm.barrier();  // a mismatch is not a communication failure: the group is still usable
  journal.write({{"event", "barrier"}});
}

// One allreduce that works, then the last rank dies or stalls and the others try another.
void misbehave_after_first(pplug::Communicator& comm, Journal& journal, bool die) {
  std::vector<torch::Tensor> tensors{torch::ones({1000})};
  comm.allreduce_mean(tensors);
  journal.write({{"event", "first_allreduce"}});
  if (comm.rank() == comm.world_size() - 1) {
    if (die) ::_exit(3);
    std::this_thread::sleep_for(std::chrono::seconds(30));
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  try {
    comm.allreduce_mean(tensors);
    journal.write({{"event", "second_allreduce"}});
  } catch (const pplug::Error& e) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    journal.write({{"event", "error"}, {"message", e.what()}, {"ms", ms}});
    try {
      comm.barrier();
    } catch (const pplug::Error& again) {
      journal.write({{"event", "error_after_failure"}, {"message", again.what()}});
    }
  }
}

int run_worker(const std::string& scenario, const std::string& out_dir, int timeout_ms,
               const std::string& file_store) {
  const pplug::DistributedConfig env = pplug::distributed_config_from_env();
  Journal journal(out_dir, env.rank);
  journal.write(
      {{"event", "started"},
       {"pid", ::getpid()},
       {"omp_num_threads", std::getenv("OMP_NUM_THREADS") ? std::getenv("OMP_NUM_THREADS") : ""}});
  if (scenario == "ok") return 0;
  if (scenario == "fail-fast" || scenario == "ignore-term" || scenario == "sleep") {
    if (scenario == "ignore-term") ::signal(SIGTERM, SIG_IGN);
    if (scenario != "sleep" && env.rank == 1) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      return 3;
    }
    std::this_thread::sleep_for(std::chrono::seconds(60));
    journal.write({{"event", "slept"}});
    return 0;
  }
  pplug::DistributedConfig config = env;
  config.timeout = std::chrono::milliseconds(timeout_ms);
  config.file_store = file_store;
  const auto start = std::chrono::steady_clock::now();
  try {
    pplug::Communicator comm(config);
    journal.write({{"event", "joined"}});
    if (scenario == "collectives") collectives(comm, journal);
    if (scenario == "die-after-first") misbehave_after_first(comm, journal, true);
    if (scenario == "stall-after-first") misbehave_after_first(comm, journal, false);
    if (scenario == "join") comm.barrier();
  } catch (const pplug::Error& e) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    journal.write({{"event", "error"}, {"message", e.what()}, {"ms", ms}});
    return 1;
  }
  journal.write({{"event", "finished"}});
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv, argv + argc);
  try {
    if (args.size() >= 7 && args[1] == "launch") {
      pplug::LocalLaunchOptions options;
      options.grace = std::chrono::milliseconds(std::stoi(args[3]));
      const std::vector<std::string> worker(args.begin() + 4, args.end());
      std::vector<std::string> worker_argv{args[0]};
      worker_argv.insert(worker_argv.end(), worker.begin(), worker.end());
      return pplug::run_local_workers(std::stoi(args[2]), worker_argv, options);
    }
    if (args.size() == 4 || args.size() == 5) {
      return run_worker(args[1], args[2], std::stoi(args[3]), args.size() == 5 ? args[4] : "");
    }
  } catch (const std::exception& e) {
    std::cerr << "dist_worker: " << e.what() << "\n";
    return 2;
  }
  std::cerr << "usage: dist_worker SCENARIO OUT_DIR TIMEOUT_MS [FILE_STORE]\n"
               "       dist_worker launch NPROC GRACE_MS SCENARIO OUT_DIR TIMEOUT_MS\n";
  return 2;
}
