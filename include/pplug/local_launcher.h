// Running N data-parallel workers on this machine (`--nproc N`): what torchrun does for one
// node, without Python. Each worker is a copy of a program started with torchrun's environment,
// so distributed_config_from_env() in the worker finds its rank.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace pplug {

struct LocalLaunchOptions {
  std::string executable;      // program to run; empty = the running program (/proc/self/exe)
  int master_port = 0;         // port of rank 0's store; 0 = a port free on 127.0.0.1 now
  int threads_per_worker = 0;  // OMP_NUM_THREADS of each worker; 0 = the cores split evenly
                               // (at least 1), unless OMP_NUM_THREADS is already set
  std::chrono::milliseconds grace{5000};  // SIGTERM to SIGKILL when workers are stopped
};

// Starts `nproc` (>= 1) copies of the program with arguments `argv` (argv[0] included) and
// RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR=127.0.0.1 and MASTER_PORT in their
// environment, and waits for all. Returns 0 when every worker exits with 0. When one exits
// otherwise, the others get SIGTERM, then SIGKILL after `grace`, and the first failure's code
// is returned (its exit code, or 128 + signal). SIGINT and SIGTERM sent to the launcher are
// passed on to the workers, which then get `grace` to stop (the return is 128 + that signal).
// Workers also get SIGTERM when the launcher dies. One call at a time per process; throws
// InvalidArgument for bad arguments and pplug::Error when a worker cannot be started.
int run_local_workers(int nproc, const std::vector<std::string>& argv,
                      const LocalLaunchOptions& options = {});

// A TCP port that is free on 127.0.0.1 at the time of the call (bound to port 0, then released).
int pick_free_port();

}  // namespace pplug
