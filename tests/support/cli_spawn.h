// Starting the built `pplug` tool as a child process the test controls: to kill it at a chosen
// moment (SIGKILL fault tests), or to run it under a file-size limit (a full disk) or without
// root's power to ignore file permissions (a read-only folder, even when the tests run as root).
#pragma once

#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>

#include <cstdio>
#include <string>
#include <vector>

#include "support/cli_run.h"

namespace pplug::testing {

struct ChildLimits {
  // RLIMIT_FSIZE in bytes (writes past it fail with EFBIG, as on a full disk); < 0: none.
  long long file_size_limit = -1;
  // Drops CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH and CAP_FOWNER from the child's bounding set, so
  // a root child obeys file permissions. The child exits with kCannotDropCapabilities when the
  // kernel refuses (no CAP_SETPCAP): tests skip then.
  bool obey_file_permissions = false;
};

constexpr int kCannotDropCapabilities = 125;

// Starts `program args...` with stdout and stderr in `log`; returns its pid.
inline pid_t spawn_process(const std::string& program, const std::vector<std::string>& args,
                           const std::string& log, const ChildLimits& limits = {}) {
  std::fflush(nullptr);
  const pid_t child = ::fork();
  if (child != 0) return child;
  if (limits.file_size_limit >= 0) {
    ::signal(SIGXFSZ, SIG_IGN);  // stays ignored across exec: writes fail instead of killing
    const rlimit r{static_cast<rlim_t>(limits.file_size_limit),
                   static_cast<rlim_t>(limits.file_size_limit)};
    ::setrlimit(RLIMIT_FSIZE, &r);
  }
  if (limits.obey_file_permissions && ::geteuid() == 0) {
    for (const int cap : {CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER}) {
      if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) ::_exit(kCannotDropCapabilities);
    }
  }
  std::vector<char*> argv;
  std::string tool = program;
  argv.push_back(tool.data());
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  if (std::freopen(log.c_str(), "w", stdout) == nullptr ||
      std::freopen(log.c_str(), "a", stderr) == nullptr) {
    ::_exit(126);
  }
  ::execv(tool.c_str(), argv.data());
  ::_exit(127);
}

inline pid_t spawn_pplug(const std::vector<std::string>& args, const std::string& log,
                         const ChildLimits& limits = {}) {
  return spawn_process(PPLUG_CLI, args, log, limits);
}

// Waits for `child`: its exit code, or -signal when a signal ended it.
inline int wait_child(pid_t child) {
  int status = 0;
  ::waitpid(child, &status, 0);
  return WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
}

// Runs `pplug args...` to the end under `limits`: its exit code and its output (stdout and
// stderr together, in `out`).
inline CliRun run_pplug_limited(const std::vector<std::string>& args, const std::string& log,
                                const ChildLimits& limits) {
  CliRun r;
  r.rc = wait_child(spawn_pplug(args, log, limits));
  r.out = slurp(log);
  r.err = r.out;
  return r;
}

}  // namespace pplug::testing
