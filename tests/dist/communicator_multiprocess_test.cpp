// Communicator across processes on 127.0.0.1: each test starts dist_worker ranks (free ports or a
// FileStore in a temporary folder), bounds every wait, and reads what the ranks wrote.
#include <gtest/gtest.h>

#include <cmath>

#include "dist/dist_test_support.h"
#include "pplug/local_launcher.h"

namespace pplug::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr int kTimeoutMs = 10000;      // healthy runs: generous, the machine may be loaded
constexpr int kShortTimeoutMs = 2000;  // runs that must fail
constexpr milliseconds kProcessLimit{20000};

// Starts `world_size` ranks running `scenario` and returns their wait statuses.
std::vector<std::optional<int>> run_group(const TempDir& dir, int world_size,
                                          const std::vector<std::string>& args) {
  const int port = pick_free_port();
  std::vector<pid_t> pids;
  for (int r = 0; r < world_size; ++r)
    pids.push_back(spawn_rank(dir.path(), r, world_size, port, args));
  std::vector<std::optional<int>> statuses;
  for (pid_t pid : pids) statuses.push_back(wait_for(pid, kProcessLimit));
  return statuses;
}

std::string logs(const TempDir& dir, int world_size) {
  std::string text;
  for (int r = 0; r < world_size; ++r) {
    text += "--- rank " + std::to_string(r) + " log:\n" +
            slurp_file(dir.path() + "/rank" + std::to_string(r) + ".log") + "--- journal:\n" +
            slurp_file(dir.path() + "/rank" + std::to_string(r) + ".jsonl");
  }
  return text;
}

void expect_near_all(const json& got, const std::vector<double>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_NEAR(got[i].get<double>(), want[i], 1e-12 * (1 + std::abs(want[i])))
        << what << " [" << i << "]";
  }
}

// Checks every rank's results against means, sums and broadcasts computed here by hand.
void check_collectives(const TempDir& dir, int n) {
  const double mean_r = (n - 1) / 2.0;  // mean of the ranks 0..n-1
  std::vector<double> a, b, c;
  for (int i = 0; i < 6; ++i) a.push_back(i * (mean_r + 1));
  for (int i = 0; i < 5; ++i) b.push_back(1.0 / (i + 1) + 10.0 * mean_r);
  for (int j = 0; j < 3; ++j) {  // the transposed (3, 2) view, row by row
    for (int i = 0; i < 2; ++i) c.push_back((i * 3 + j) * (mean_r - 0.25));
  }
  for (int r = 0; r < n; ++r) {
    SCOPED_TRACE("rank " + std::to_string(r));
    const auto lines = journal(dir.path(), r);
    const json mean = event(lines, "allreduce_mean");
    ASSERT_FALSE(mean.is_null()) << logs(dir, n);
    expect_near_all(mean["values"][0], a, "float32 (2, 3)");
    expect_near_all(mean["values"][1], b, "float64 (5)");
    expect_near_all(mean["values"][2], c, "float32 non-contiguous (3, 2)");
    EXPECT_EQ(mean["dtypes"], json({"Float", "Double"}));
    EXPECT_EQ(mean["shapes"], json({{2, 3}, {3, 2}}));

    const json larger = event(lines, "allreduce_mean_larger");
    EXPECT_EQ(larger["min"].get<double>(), mean_r);
    EXPECT_EQ(larger["max"].get<double>(), mean_r);

    expect_near_all(event(lines, "allreduce_sum")["values"], {n * (n + 1) / 2.0, n * (n + 1.0)},
                    "int64 sum");
    int root = 0;
    for (const auto& line : lines) {
      if (line["event"] != "broadcast") continue;
      EXPECT_EQ(line["root"], root);
      expect_near_all(line["values"][0], std::vector<double>(3, 100.0 + root), "broadcast f32");
      expect_near_all(line["values"][1], std::vector<double>(2, root), "broadcast i64");
      expect_near_all(line["values"][2], std::vector<double>(4, 100.0 + root), "broadcast view");
      ++root;
    }
    EXPECT_EQ(root, 2);
    EXPECT_EQ(event(lines, "all_gather_strings")["matches"], json(std::vector<bool>(n, true)));
    EXPECT_FALSE(event(lines, "check_same_passed").is_null());
    const std::string mismatch = event(lines, "check_same_failed").value("message", "");
    const std::string others = n == 2 ? "rank 0 has \"fp-aaaa\"" : "ranks 0, 2 have \"fp-aaaa\"";
    EXPECT_EQ(mismatch,
              "model fingerprint differs across ranks: " + others + "; rank 1 has \"fp-bbbb\"");
    EXPECT_FALSE(event(lines, "barrier").is_null());
    EXPECT_FALSE(event(lines, "finished").is_null());
  }
}

TEST(CommunicatorMultiProcess, TwoRanksOverTcpStore) {
  TempDir dir;
  const auto statuses = run_group(dir, 2, {"collectives", dir.path(), std::to_string(kTimeoutMs)});
  for (const auto& status : statuses) {
    ASSERT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << logs(dir, 2);
  }
  check_collectives(dir, 2);
}

TEST(CommunicatorMultiProcess, ThreeRanksOverFileStore) {
  TempDir dir;
  const std::string store = dir.path() + "/store";
  const auto statuses =
      run_group(dir, 3, {"collectives", dir.path(), std::to_string(kTimeoutMs), store});
  for (const auto& status : statuses) {
    ASSERT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << logs(dir, 3);
  }
  check_collectives(dir, 3);
  EXPECT_FALSE(std::filesystem::exists(store)) << "the last rank out removes the FileStore";
}

// Runs one rank of a world of two, alone; returns its error event.
json lone_rank_error(const TempDir& dir, int rank) {
  const pid_t pid = spawn_rank(dir.path(), rank, 2, pick_free_port(),
                               {"join", dir.path(), std::to_string(kShortTimeoutMs)});
  const auto status = wait_for(pid, kProcessLimit);
  EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 1) << logs(dir, rank + 1);
  return event(journal(dir.path(), rank), "error");
}

TEST(CommunicatorMultiProcess, RankThatNeverJoinsIsNamed) {
  TempDir dir;
  const json error = lone_rank_error(dir, 0);
  ASSERT_FALSE(error.is_null());
  const std::string message = error["message"];
  EXPECT_NE(message.find("start-up: rank 1 of 2 never joined"), std::string::npos) << message;
  EXPECT_NE(message.find("within 2000 ms"), std::string::npos) << message;
  EXPECT_GE(error["ms"].get<int>(), 1900);
  EXPECT_LT(error["ms"].get<int>(), 5000);
}

TEST(CommunicatorMultiProcess, MissingStoreServerIsNamed) {
  TempDir dir;
  const json error = lone_rank_error(dir, 1);
  ASSERT_FALSE(error.is_null());
  const std::string message = error["message"];
  EXPECT_NE(message.find("start-up: rank 0, which serves the store at 127.0.0.1:"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("never joined within 2000 ms (seen from rank 1)"), std::string::npos)
      << message;
  EXPECT_LT(error["ms"].get<int>(), 5000);
}

TEST(CommunicatorMultiProcess, RankThatExitsMidRunIsNamed) {
  TempDir dir;
  const auto statuses =
      run_group(dir, 2, {"die-after-first", dir.path(), std::to_string(kShortTimeoutMs)});
  ASSERT_TRUE(statuses[1] && WIFEXITED(*statuses[1]) && WEXITSTATUS(*statuses[1]) == 3);
  const json error = event(journal(dir.path(), 0), "error");
  ASSERT_FALSE(error.is_null()) << logs(dir, 2);
  const std::string message = error["message"];
  const std::string pid =
      std::to_string(event(journal(dir.path(), 1), "started")["pid"].get<int>());
  EXPECT_NE(message.find("allreduce_mean failed on rank 0 of 2"), std::string::npos) << message;
  EXPECT_NE(message.find("rank 1 has exited (pid " + pid + ")"), std::string::npos) << message;
  EXPECT_LT(error["ms"].get<int>(), 2 * kShortTimeoutMs) << message;
  const std::string after =
      event(journal(dir.path(), 0), "error_after_failure").value("message", "");
  EXPECT_NE(after.find("barrier: the communicator is unusable after an earlier failure"),
            std::string::npos)
      << after;
}

TEST(CommunicatorMultiProcess, StalledRankTimesOut) {
  TempDir dir;
  const int port = pick_free_port();
  const std::vector<std::string> args{"stall-after-first", dir.path(),
                                      std::to_string(kShortTimeoutMs)};
  const pid_t rank0 = spawn_rank(dir.path(), 0, 2, port, args);
  const pid_t rank1 = spawn_rank(dir.path(), 1, 2, port, args);
  const auto status0 = wait_for(rank0, kProcessLimit);
  wait_for(rank1, milliseconds(0));  // it sleeps for 30 s: stop it now
  ASSERT_TRUE(status0 && WIFEXITED(*status0)) << logs(dir, 2);
  const json error = event(journal(dir.path(), 0), "error");
  ASSERT_FALSE(error.is_null()) << logs(dir, 2);
  const std::string message = error["message"];
  EXPECT_NE(message.find("rank 1 did not answer within 2000 ms"), std::string::npos) << message;
  // The collective's timeout, then as long again for rank 1 to report a failure of its own.
  EXPECT_GE(error["ms"].get<int>(), kShortTimeoutMs - 100);
  EXPECT_LT(error["ms"].get<int>(), 2 * kShortTimeoutMs + 2000) << message;
}

}  // namespace
}  // namespace pplug::testing
