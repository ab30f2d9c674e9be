// Running the built `pplug` tool from a test: its exit code, stdout and stderr.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace pplug::testing {

struct CliRun {
  int rc = -1;
  std::string out, err;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::string quote(const std::string& s) { return "'" + s + "'"; }

// Runs `prefix pplug args` (PPLUG_CLI, the built tool) with its output in `base`.out and `.err`
// and its input from `stdin_path` (empty: /dev/null).
inline CliRun run_pplug(const std::string& args, const std::string& base,
                        const std::string& stdin_path = "", const std::string& prefix = "") {
  const std::string cmd = prefix + std::string(PPLUG_CLI) + " " + args + " > " +
                          quote(base + ".out") + " 2> " + quote(base + ".err") + " < " +
                          (stdin_path.empty() ? std::string("/dev/null") : quote(stdin_path));
  CliRun r;
  const int status = std::system(cmd.c_str());
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(base + ".out");
  r.err = slurp(base + ".err");
  return r;
}

}  // namespace pplug::testing
