// Multi-process test helpers: a temporary folder, starting the dist_worker helper binary
// (PPLUG_DIST_WORKER) as a rank with a given environment, waiting with a bound, and reading
// the JSON lines each rank writes.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace pplug::testing {

using Clock = std::chrono::steady_clock;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "pplug_dist_XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

using EnvList = std::vector<std::pair<std::string, std::string>>;

// Starts `argv` (argv[0] is the program) with this process's environment minus the variables
// a launcher sets (ranks, store, threads), plus `env`; stdout and stderr go to `log_path`. The
// argument and environment arrays are built before fork(): the test process may run other threads.
inline pid_t spawn(const std::vector<std::string>& argv, const EnvList& env,
                   const std::string& log_path) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    bool dropped = false;
    for (const char* name :
         {"RANK=", "WORLD_SIZE=", "MASTER_ADDR=", "MASTER_PORT=", "OMP_NUM_THREADS="}) {
      dropped = dropped || entry.rfind(name, 0) == 0;
    }
    if (!dropped) env_strings.push_back(entry);
  }
  for (const auto& [name, value] : env) env_strings.push_back(name + "=" + value);
  std::vector<std::string> args = argv;
  std::vector<char*> arg_ptrs, env_ptrs;
  for (auto& a : args) arg_ptrs.push_back(a.data());
  arg_ptrs.push_back(nullptr);
  for (auto& e : env_strings) env_ptrs.push_back(e.data());
  env_ptrs.push_back(nullptr);
  const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(log, 1);
    ::dup2(log, 2);
    ::execve(args[0].c_str(), arg_ptrs.data(), env_ptrs.data());
    ::_exit(127);
  }
  ::close(log);
  return pid;
}

// The wait status of `pid`, or nullopt after `limit` (the process is then killed and reaped, so
// no test leaves a process behind).
inline std::optional<int> wait_for(pid_t pid, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return std::nullopt;
}

// One rank of the helper worker: RANK/WORLD_SIZE/MASTER_* in its environment.
inline pid_t spawn_rank(const std::string& dir, int rank, int world_size, int port,
                        const std::vector<std::string>& args) {
  std::vector<std::string> argv{PPLUG_DIST_WORKER};
  argv.insert(argv.end(), args.begin(), args.end());
  return spawn(argv,
               {{"RANK", std::to_string(rank)},
                {"WORLD_SIZE", std::to_string(world_size)},
                {"MASTER_ADDR", "127.0.0.1"},
                {"MASTER_PORT", std::to_string(port)},
                {"OMP_NUM_THREADS", "1"}},
               dir + "/rank" + std::to_string(rank) + ".log");
}

// The JSON lines rank `rank` wrote into `dir`.
inline std::vector<nlohmann::json> journal(const std::string& dir, int rank) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(dir + "/rank" + std::to_string(rank) + ".jsonl");
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(nlohmann::json::parse(line));
  }
  return lines;
}

// The first line of `lines` whose "event" is `event`, or null.
inline nlohmann::json event(const std::vector<nlohmann::json>& lines, const std::string& event) {
  for (const auto& line : lines) {
    if (line.value("event", "") == event) return line;
  }
  return nullptr;
}

inline std::string slurp_file(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace pplug::testing
