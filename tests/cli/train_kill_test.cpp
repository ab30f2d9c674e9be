// `pplug train` killed with SIGKILL at moments spread over a run: before anything is written,
// mid-epoch, while a checkpoint is being written, in a later epoch. Afterwards the folder holds
// only a run's files, every metrics line is whole, and `--resume OUT/last` (what a script that
// retries always passes) finishes the run: from the checkpoint when there is one, from the
// start when the kill came first. Real stories260K, a few synthetic users, 3 short epochs.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/cli_run.h"
#include "support/cli_spawn.h"
#include "support/test_models.h"

namespace pplug {
namespace {

namespace fs = std::filesystem;
using testing::quote;

size_t metric_lines(const std::string& path) {
  std::ifstream in(path);
  size_t n = 0;
  for (std::string line; std::getline(in, line);) n += line.find("\"loss\"") != std::string::npos;
  return n;
}

class TrainKillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = testing::shared_model_path("stories260K/stories260K.bin");
    if (model_.empty()) GTEST_SKIP() << "../shared/models/stories260K is absent";
    dir_ = testing::temp_dir("train_kill");
    const auto synth = testing::run_pplug(
        "synth --kind tagging-by-topic --users 12 --questions-per-user 2 --seed 3 --out " +
            quote(dir_ + "/data"),
        dir_ + "/synth");
    ASSERT_EQ(synth.rc, 0) << synth.err;
  }

  std::vector<std::string> train_args(const std::string& out) const {
    return {"train",
            "--model",
            model_,
            "--task",
            "LaMP_2",
            "--train-questions",
            dir_ + "/data/train_questions.json",
            "--train-outputs",
            dir_ + "/data/train_outputs.json",
            "--epochs",
            "3",
            "--threads",
            "1",
            "--no-progress",
            "--out",
            out};
  }

  // Starts `pplug train` into `out` and kills it with SIGKILL as soon as `ready()` holds (polled
  // every 2 ms, for 120 s at most). Returns false when the run ended before (nothing to kill).
  bool kill_when(const std::string& out, const std::function<bool()>& ready) const {
    const pid_t child = testing::spawn_pplug(train_args(out), out + ".log");
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(child, &status, WNOHANG) == child) return false;  // finished first
      if (ready()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ::kill(child, SIGKILL);
    return testing::wait_child(child) == -SIGKILL;
  }

  // What the killed run left, then its resume: whole metrics lines, only a run's files, and a
  // finished run whose best/ plug-in is complete.
  void expect_recoverable(const std::string& out, const std::string& when) const {
    SCOPED_TRACE(when);
    const std::set<std::string> run_files = {"train_run.json", "metrics.jsonl", "best", "last"};
    std::string args;
    for (const auto& a : train_args(out)) args += quote(a) + " ";
    const auto resumed =
        testing::run_pplug(args + "--resume " + quote(out + "/last"), out + "-resume");
    ASSERT_EQ(resumed.rc, 0) << resumed.err;
    const auto summary = nlohmann::json::parse(resumed.out);
    EXPECT_FALSE(summary["interrupted"].get<bool>());
    EXPECT_EQ(summary["steps"], 15);
    for (const auto& entry : fs::directory_iterator(out)) {
      EXPECT_EQ(run_files.count(entry.path().filename().string()), 1u) << entry.path();
    }
    EXPECT_TRUE(fs::exists(out + "/best/manifest.json"));
    EXPECT_TRUE(fs::exists(out + "/best/plugin.safetensors"));
    EXPECT_TRUE(fs::exists(out + "/last/state.json"));
    // Every line whole; every step of the run logged at least once (steps after the last
    // checkpoint are logged again by the resume).
    std::ifstream in(out + "/metrics.jsonl");
    std::set<int64_t> steps;
    for (std::string line; std::getline(in, line);) {
      const auto j = nlohmann::json::parse(line, nullptr, false);
      ASSERT_FALSE(j.is_discarded()) << "torn line: " << line;
      if (j.contains("loss") && j.contains("step")) steps.insert(j["step"].get<int64_t>());
    }
    EXPECT_EQ(steps.size(), 15u);
  }

  std::string model_, dir_;
};

TEST_F(TrainKillTest, EveryKillLeavesARunThatResumesToTheEnd) {
  // Before anything is written (the model is still loading).
  const std::string early = dir_ + "/early";
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(kill_when(early, [&] {
    return std::chrono::steady_clock::now() - start > std::chrono::milliseconds(150);
  }));
  expect_recoverable(early, "killed while loading");

  // The later moments depend on the machine's speed: a run may end before one comes (a
  // checkpoint folder exists for milliseconds). Most must be hit, or the test tests nothing.
  int killed = 1;
  // Mid-epoch: after the third step was logged.
  const std::string mid = dir_ + "/mid";
  if (kill_when(mid, [&] { return metric_lines(mid + "/metrics.jsonl") >= 3; })) {
    ++killed;
    expect_recoverable(mid, "killed mid-epoch");
  }
  // While a checkpoint is written: its temporary folder exists.
  const std::string saving = dir_ + "/saving";
  if (kill_when(saving, [&] { return fs::exists(saving + "/last.tmp"); })) {
    ++killed;
    expect_recoverable(saving, "killed while saving a checkpoint");
  }
  // In the last epoch, with checkpoints of earlier epochs on disk.
  const std::string late = dir_ + "/late";
  if (kill_when(late, [&] { return metric_lines(late + "/metrics.jsonl") >= 12; })) {
    ++killed;
    expect_recoverable(late, "killed in the last epoch");
  }
  RecordProperty("kills", killed);
  EXPECT_GE(killed, 3);
}

}  // namespace
}  // namespace pplug
