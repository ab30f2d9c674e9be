// run_local_workers, through `dist_worker launch` (a real program that re-executes itself as
// its workers): success, a failing worker stopping the others, SIGKILL for a worker that ignores
// SIGTERM, and signals passed on to the workers.
#include <gtest/gtest.h>

#include "dist/dist_test_support.h"
#include "pplug/error.h"
#include "pplug/local_launcher.h"

namespace pplug::testing {
namespace {

using std::chrono::milliseconds;

struct Launch {
  pid_t pid = -1;
  Clock::time_point start;
};

Launch launch(const TempDir& dir, int nproc, int grace_ms, const std::string& scenario) {
  return {spawn({PPLUG_DIST_WORKER, "launch", std::to_string(nproc), std::to_string(grace_ms),
                 scenario, dir.path(), "10000"},
                {}, dir.path() + "/launcher.log"),
          Clock::now()};
}

// The launcher's exit code and how long it ran; -1 when it had to be killed after 20 s.
std::pair<int, milliseconds> finish(const Launch& run) {
  const auto status = wait_for(run.pid, milliseconds(20000));
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - run.start);
  if (!status) return {-1, took};
  return {WIFEXITED(*status) ? WEXITSTATUS(*status) : 128 + WTERMSIG(*status), took};
}

TEST(LocalLauncher, TwoWorkersSucceed) {
  TempDir dir;
  const auto [code, took] = finish(launch(dir, 2, 1000, "join"));
  EXPECT_EQ(code, 0) << slurp_file(dir.path() + "/launcher.log");
  const std::string threads =
      std::to_string(std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / 2));
  for (int r = 0; r < 2; ++r) {
    const auto lines = journal(dir.path(), r);
    EXPECT_FALSE(event(lines, "finished").is_null()) << "rank " << r;
    EXPECT_EQ(event(lines, "started").value("omp_num_threads", ""), threads);
  }
}

TEST(LocalLauncher, FailingWorkerStopsTheOthers) {
  TempDir dir;
  const auto [code, took] = finish(launch(dir, 2, 1000, "fail-fast"));
  EXPECT_EQ(code, 3) << "the failing worker's exit code";
  EXPECT_LT(took, milliseconds(10000)) << "rank 0 sleeps 60 s unless stopped";
  EXPECT_FALSE(event(journal(dir.path(), 0), "started").is_null());
  EXPECT_TRUE(event(journal(dir.path(), 0), "slept").is_null());
  EXPECT_NE(slurp_file(dir.path() + "/launcher.log").find("worker rank 1"), std::string::npos);
}

TEST(LocalLauncher, WorkerIgnoringSigtermIsKilled) {
  TempDir dir;
  const auto [code, took] = finish(launch(dir, 3, 500, "ignore-term"));
  EXPECT_EQ(code, 3);
  EXPECT_LT(took, milliseconds(10000));
  EXPECT_TRUE(event(journal(dir.path(), 0), "slept").is_null());
  EXPECT_TRUE(event(journal(dir.path(), 2), "slept").is_null());
  EXPECT_NE(slurp_file(dir.path() + "/launcher.log").find("killing them"), std::string::npos);
}

TEST(LocalLauncher, PassesSignalsOnToTheWorkers) {
  TempDir dir;
  const Launch run = launch(dir, 2, 2000, "sleep");
  std::vector<int> pids;
  const auto deadline = Clock::now() + milliseconds(15000);
  while (pids.size() < 2 && Clock::now() < deadline) {
    pids.clear();
    for (int r = 0; r < 2; ++r) {
      const auto started = event(journal(dir.path(), r), "started");
      if (!started.is_null()) pids.push_back(started["pid"]);
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_EQ(pids.size(), 2u) << slurp_file(dir.path() + "/launcher.log");
  ::kill(run.pid, SIGTERM);
  const auto [code, took] = finish(run);
  EXPECT_EQ(code, 128 + SIGTERM);
  for (int pid : pids) EXPECT_NE(::kill(pid, 0), 0) << "worker " << pid << " outlived the launcher";
}

TEST(LocalLauncher, RefusesBadArguments) {
  EXPECT_THROW(run_local_workers(0, {"x"}), InvalidArgument);
  EXPECT_THROW(run_local_workers(2, {}), InvalidArgument);
  LocalLaunchOptions options;
  options.executable = "/nonexistent/program";
  try {
    run_local_workers(1, {"x"}, options);
    FAIL() << "a missing program was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/program"), std::string::npos);
  }
}

TEST(LocalLauncher, PicksAFreePort) {
  const int port = pick_free_port();
  EXPECT_GT(port, 0);
  EXPECT_LE(port, 65535);
}

}  // namespace
}  // namespace pplug::testing
