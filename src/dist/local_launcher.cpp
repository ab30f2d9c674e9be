// run_local_workers: fork/exec of N workers with torchrun's environment, and their supervision.
#include "pplug/local_launcher.h"

#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstring>
#include <thread>

#include "pplug/error.h"
#include "util/log.h"

extern char** environ;

namespace pplug {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kMaxWorkers = 256;

// The signal handler only records; the supervision loop acts on it. A lock-free atomic is safe
// to store to from a handler.
std::atomic<int> g_received_signal{0};
std::atomic<bool> g_launcher_running{false};

extern "C" void record_signal(int signal) { g_received_signal.store(signal); }

// Installs the recording handler for SIGINT and SIGTERM for the launcher's lifetime, and puts
// the previous handlers back afterwards (the caller's own Ctrl-C handling resumes).
class SignalCapture {
 public:
  SignalCapture() {
    g_received_signal.store(0);
    struct sigaction action {};
    action.sa_handler = record_signal;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, &previous_int_);
    ::sigaction(SIGTERM, &action, &previous_term_);
  }
  ~SignalCapture() {
    ::sigaction(SIGINT, &previous_int_, nullptr);
    ::sigaction(SIGTERM, &previous_term_, nullptr);
  }
  SignalCapture(const SignalCapture&) = delete;
  SignalCapture& operator=(const SignalCapture&) = delete;

 private:
  struct sigaction previous_int_ {};
  struct sigaction previous_term_ {};
};

std::string running_executable() {
  char path[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (n <= 0) throw Error("run_local_workers: cannot resolve /proc/self/exe");
  return {path, static_cast<size_t>(n)};
}

bool is_launcher_variable(const std::string& entry, bool sets_threads) {
  static const char* const kNames[] = {
      "RANK=", "WORLD_SIZE=", "LOCAL_RANK=", "LOCAL_WORLD_SIZE=", "MASTER_ADDR=", "MASTER_PORT="};
  for (const char* name : kNames) {
    if (entry.rfind(name, 0) == 0) return true;
  }
  return sets_threads && entry.rfind("OMP_NUM_THREADS=", 0) == 0;
}

// argv and envp of one worker, built before fork(): between fork and exec a child of a
// multi-threaded process (libtorch's pools) may only make async-signal-safe calls. seal() takes
// pointers into the strings, so it runs once the image has its final place in memory.
struct ExecImage {
  std::vector<std::string> args, env;
  std::vector<char*> argv, envp;

  void seal() {
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
  }
};

ExecImage worker_image(const std::vector<std::string>& argv, int rank, int nproc, int port,
                       int threads) {
  ExecImage image;
  image.args = argv;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!is_launcher_variable(*e, threads > 0)) image.env.emplace_back(*e);
  }
  image.env.push_back("RANK=" + std::to_string(rank));
  image.env.push_back("LOCAL_RANK=" + std::to_string(rank));
  image.env.push_back("WORLD_SIZE=" + std::to_string(nproc));
  image.env.push_back("LOCAL_WORLD_SIZE=" + std::to_string(nproc));
  image.env.emplace_back("MASTER_ADDR=127.0.0.1");
  image.env.push_back("MASTER_PORT=" + std::to_string(port));
  if (threads > 0) image.env.push_back("OMP_NUM_THREADS=" + std::to_string(threads));
  return image;
}

pid_t start_worker(const std::string& path, ExecImage& image, const std::string& exec_failed) {
  const pid_t launcher = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // A worker must not outlive a launcher killed by SIGKILL (it would hold its port and cores).
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != launcher) ::_exit(127);  // the launcher died before prctl took effect
    ::execve(path.c_str(), image.argv.data(), image.envp.data());
    [[maybe_unused]] const ssize_t ignored = ::write(2, exec_failed.data(), exec_failed.size());
    ::_exit(127);
  }
  if (pid < 0) throw Error("run_local_workers: fork failed: " + std::string(std::strerror(errno)));
  return pid;
}

int exit_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

std::string describe(int status) {
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
  return "exited with code " + std::to_string(exit_code(status));
}

struct Worker {
  int rank = 0;
  pid_t pid = -1;
  bool running = true;
};

// Waits for every worker; stops the rest on the first failure or a signal to the launcher.
// Polls every 10 ms rather than blocking in wait(): a blocking wait cannot also watch the signal
// flag and the SIGKILL deadline, and the poll costs nothing next to a training run.
int supervise(std::vector<Worker>& workers, std::chrono::milliseconds grace) {
  int result = 0;
  bool stopping = false, killed = false;
  Clock::time_point kill_at;
  const auto stop = [&](int signal) {
    for (const auto& w : workers) {
      if (w.running) ::kill(w.pid, signal);
    }
    if (!stopping) kill_at = Clock::now() + grace;
    stopping = true;
  };
  size_t running = workers.size();
  while (running > 0) {
    for (auto& w : workers) {
      if (!w.running) continue;
      int status = 0;
      const pid_t done = ::waitpid(w.pid, &status, WNOHANG);
      if (done == 0 || (done < 0 && errno == EINTR)) continue;
      w.running = false;
      --running;
      const int code = done < 0 ? 1 : exit_code(status);  // < 0: reaped by someone else
      if (code != 0 && result == 0) {
        result = code;
        PPLUG_LOG_WARN("worker rank {} (pid {}) {}; stopping the other workers", w.rank, w.pid,
                       done < 0 ? std::string("vanished") : describe(status));
      }
      if (code != 0 && !stopping) stop(SIGTERM);
    }
    if (const int signal = g_received_signal.exchange(0); signal != 0) {
      PPLUG_LOG_WARN("launcher got signal {}; passing it on to the workers", signal);
      if (result == 0) result = 128 + signal;
      stop(signal);
    }
    if (stopping && !killed && running > 0 && Clock::now() >= kill_at) {
      PPLUG_LOG_WARN("{} worker(s) still running {} ms after being asked to stop; killing them",
                     running, grace.count());
      stop(SIGKILL);
      killed = true;
    }
    if (running > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return result;
}

}  // namespace

int pick_free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw Error("pick_free_port: socket: " + std::string(std::strerror(errno)));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  const int error = errno;
  ::close(fd);
  if (!ok) throw Error("pick_free_port: bind 127.0.0.1:0: " + std::string(std::strerror(error)));
  return ntohs(address.sin_port);
}

int run_local_workers(int nproc, const std::vector<std::string>& argv,
                      const LocalLaunchOptions& options) {
  if (nproc < 1 || nproc > kMaxWorkers) {
    throw InvalidArgument("run_local_workers: nproc must be in [1, " + std::to_string(kMaxWorkers) +
                          "], got " + std::to_string(nproc));
  }
  if (argv.empty()) throw InvalidArgument("run_local_workers: argv is empty (argv[0] is needed)");
  if (options.master_port < 0 || options.master_port > 65535 || options.threads_per_worker < 0 ||
      options.grace.count() < 0) {
    throw InvalidArgument(
        "run_local_workers: master_port must be in [0, 65535], "
        "threads_per_worker and grace non-negative");
  }
  const std::string path = options.executable.empty() ? running_executable() : options.executable;
  if (::access(path.c_str(), X_OK) != 0) {
    throw Error("run_local_workers: cannot execute " + path + ": " + std::strerror(errno));
  }
  const int port = options.master_port != 0 ? options.master_port : pick_free_port();
  // Each worker's intra-op pool on its share of the cores: N workers of all-core pools would
  // oversubscribe the machine N times over.
  int threads = options.threads_per_worker;
  if (threads == 0 && std::getenv("OMP_NUM_THREADS") == nullptr) {
    threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / nproc);
  }

  bool expected = false;
  if (!g_launcher_running.compare_exchange_strong(expected, true)) {
    throw Error("run_local_workers: already running in this process");
  }
  struct Release {
    ~Release() { g_launcher_running.store(false); }
  } release;
  SignalCapture capture;

  std::vector<ExecImage> images;
  images.reserve(static_cast<size_t>(nproc));
  for (int rank = 0; rank < nproc; ++rank) {
    images.push_back(worker_image(argv, rank, nproc, port, threads));
    images.back().seal();
  }
  const std::string exec_failed = "pplug: cannot execute " + path + "\n";
  std::vector<Worker> workers;
  try {
    for (int rank = 0; rank < nproc; ++rank) {
      workers.push_back({rank, start_worker(path, images[static_cast<size_t>(rank)], exec_failed)});
    }
  } catch (const Error&) {
    for (const auto& w : workers) ::kill(w.pid, SIGKILL);
    for (const auto& w : workers) ::waitpid(w.pid, nullptr, 0);
    throw;
  }
  PPLUG_LOG_INFO("started {} workers of {} (store on 127.0.0.1:{})", nproc, path, port);
  return supervise(workers, options.grace);
}

}  // namespace pplug
