// Data-parallel `pplug train` and `pplug eval` (--nproc, ranks on 127.0.0.1): two ranks with
// half the batch each take the same steps as one process with the whole batch; a run resumes
// across world sizes; sharded eval writes the one-process predictions byte for byte; a bad
// launch fails with a clear message. Real stories260K, a few synthetic users.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "pplug/local_launcher.h"
#include "pplug/safetensors.h"
#include "support/cli_run.h"
#include "support/test_models.h"

namespace pplug {
namespace {

using testing::CliRun;
using testing::quote;

class DataParallelCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = testing::shared_model_path("stories260K/stories260K.bin");
    if (model_.empty()) return;
    dir_ = testing::temp_dir("dp_cli");
    synth_ = run("synth --kind rating --users 12 --questions-per-user 2 --seed 5 --out " +
                 quote(dir_ + "/data"));
  }

  static void TearDownTestSuite() {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  void SetUp() override {
    if (model_.empty()) GTEST_SKIP() << "../shared/models/stories260K is absent";
    ASSERT_EQ(synth_.rc, 0) << synth_.err;
  }

  static CliRun run(const std::string& args) {
    static int counter = 0;
    return testing::run_pplug(args, dir_ + "/run" + std::to_string(counter++));
  }

  // 2 epochs of the rating set with clipping, 2 accumulated micro-batches per step and the
  // small-model recipe; `extra` sets the world size and the per-rank batch.
  static CliRun train(const std::string& out, const std::string& extra, int epochs = 2) {
    const std::string data = dir_ + "/data/";
    return run("train --model " + quote(model_) + " --task LaMP_3 --train-questions " +
               quote(data + "train_questions.json") + " --train-outputs " +
               quote(data + "train_outputs.json") + " --epochs " + std::to_string(epochs) +
               " --grad-accum 2 --history-dropout-copies 0 --threads 1 --no-progress "
               "--dist-timeout 60 --out " +
               quote(dir_ + "/" + out) + " " + extra);
  }

  // (loss, gradient norm before clipping) of every step of a run, from its metrics.jsonl.
  static std::vector<std::pair<double, double>> step_figures(const std::string& out) {
    std::vector<std::pair<double, double>> figures;
    std::ifstream in(dir_ + "/" + out + "/metrics.jsonl");
    for (std::string line; std::getline(in, line);) {
      const auto j = nlohmann::json::parse(line);
      if (j.contains("loss")) figures.emplace_back(j["loss"], j["grad_norm"]);
    }
    return figures;
  }

  // Two runs took the same steps: equal first losses and gradient norms (the same data, the
  // same normalization), then losses that drift only by rounding.
  static void expect_same_steps(const std::string& a, const std::string& b) {
    const auto fa = step_figures(a), fb = step_figures(b);
    ASSERT_EQ(fa.size(), fb.size());
    ASSERT_FALSE(fa.empty());
    EXPECT_NEAR(fa[0].first, fb[0].first, 1e-6 * fa[0].first);
    EXPECT_NEAR(fa[0].second, fb[0].second, 1e-5 * fa[0].second);
    for (size_t i = 0; i < fa.size(); ++i) {
      EXPECT_NEAR(fa[i].first, fb[i].first, 1e-4 * fa[i].first) << "step " << i + 1;
    }
  }

  // The largest difference between two plug-ins' weights.
  static double max_weight_difference(const std::string& a, const std::string& b) {
    const SafetensorsFile fa(dir_ + "/" + a + "/plugin.safetensors");
    const SafetensorsFile fb(dir_ + "/" + b + "/plugin.safetensors");
    EXPECT_EQ(fa.names(), fb.names());
    double worst = 0;
    for (const auto& name : fa.names()) {
      worst = std::max(worst, (fa.get(name) - fb.get(name)).abs().max().item<double>());
    }
    return worst;
  }

  static std::string model_, dir_;
  static CliRun synth_;
};

std::string DataParallelCliTest::model_, DataParallelCliTest::dir_;
CliRun DataParallelCliTest::synth_;

// Float summation order (each rank sums its part of the batch, then the ranks are summed) moves
// the first gradient norm by ~4e-7 relative; Adam (lr 1e-2) normalizes each coordinate by its
// own gradient history, so a coordinate whose gradient is near zero can move by a good part of
// lr on rounding alone: after 6 steps the weights were measured within 4e-4 of each other.
// A real difference (another batch size) moves them by ~1e-1.
constexpr double kTolerance = 2e-3;

TEST_F(DataParallelCliTest, TwoRanksWithHalfTheBatchTakeTheOneProcessSteps) {
  const CliRun one = train("one", "--batch-size 4");
  ASSERT_EQ(one.rc, 0) << one.err;
  const CliRun two = train("two", "--batch-size 2 --nproc 2");
  ASSERT_EQ(two.rc, 0) << two.err;
  const auto summary = nlohmann::json::parse(two.out.substr(two.out.rfind('{')));
  EXPECT_EQ(summary["world_size"], 2);
  EXPECT_EQ(summary["steps"], nlohmann::json::parse(one.out)["steps"]);
  expect_same_steps("one", "two");
  EXPECT_LT(max_weight_difference("one/last/plugin", "two/last/plugin"), kTolerance);
  // And the difference is rounding, not sameness by accident: a different batch moves them.
  const CliRun other = train("other", "--batch-size 3");
  ASSERT_EQ(other.rc, 0) << other.err;
  EXPECT_GT(max_weight_difference("one/last/plugin", "other/last/plugin"), 10 * kTolerance);
}

TEST_F(DataParallelCliTest, ARunResumesAcrossWorldSizes) {
  const CliRun whole = train("whole", "--batch-size 4");
  ASSERT_EQ(whole.rc, 0) << whole.err;
  // 2 ranks stop at step 3, one process finishes; and the other way round.
  ASSERT_EQ(train("two_then_one", "--batch-size 2 --nproc 2 --stop-at-step 3").rc, 0);
  const CliRun rest =
      train("two_then_one", "--batch-size 4 --resume " + quote(dir_ + "/two_then_one/last"));
  ASSERT_EQ(rest.rc, 0) << rest.err;
  expect_same_steps("whole", "two_then_one");
  EXPECT_LT(max_weight_difference("whole/last/plugin", "two_then_one/last/plugin"), kTolerance);

  ASSERT_EQ(train("one_then_two", "--batch-size 4 --stop-at-step 3").rc, 0);
  const CliRun rest2 = train(
      "one_then_two", "--batch-size 2 --nproc 2 --resume " + quote(dir_ + "/one_then_two/last"));
  ASSERT_EQ(rest2.rc, 0) << rest2.err;
  expect_same_steps("whole", "one_then_two");
  EXPECT_LT(max_weight_difference("whole/last/plugin", "one_then_two/last/plugin"), kTolerance);

  // A global batch other than the interrupted run's is refused.
  ASSERT_EQ(train("mismatch", "--batch-size 4 --stop-at-step 2").rc, 0);
  const CliRun refused =
      train("mismatch", "--batch-size 4 --nproc 2 --resume " + quote(dir_ + "/mismatch/last"));
  EXPECT_NE(refused.rc, 0);
  EXPECT_NE(refused.err.find("other data or options"), std::string::npos) << refused.err;
}

// Ctrl-C reaching one worker only (here rank 1, found as the launcher's last child): the stop
// travels in the next step's allreduce, every rank stops at the same step, rank 0 writes one
// resumable checkpoint, and the run resumes from it.
TEST_F(DataParallelCliTest, CtrlCOnOneRankStopsAllWithOneCheckpoint) {
  const std::string data = dir_ + "/data/";
  const std::string out = dir_ + "/ctrl_c";
  const std::string args = "train --model " + quote(model_) + " --task LaMP_3 --train-questions " +
                           quote(data + "train_questions.json") + " --train-outputs " +
                           quote(data + "train_outputs.json") +
                           " --epochs 400 --batch-size 2 --threads 1 --no-progress --out " +
                           quote(out);
  // Waits (at most 60 s) for a step in metrics.jsonl, then interrupts rank 1 alone (the
  // launcher's last child; the launcher itself if /proc cannot say).
  const std::string script =
      std::string(PPLUG_CLI) + " " + args + " --nproc 2 > " + quote(out + ".out") + " 2> " +
      quote(out + ".err") + " & pid=$!; for i in $(seq 600); do grep -q '\"step\"' " +
      quote(out + "/metrics.jsonl") + " 2>/dev/null && break; sleep 0.1; done; " +
      "child=$(cat /proc/$pid/task/*/children | tr ' ' '\\n' | grep . | tail -n 1); "
      "kill -INT ${child:-$pid}; wait $pid; echo $? > " +
      quote(out + ".rc");
  std::ofstream(out + ".sh") << script << "\n";
  ASSERT_EQ(std::system(("bash " + quote(out + ".sh")).c_str()), 0);
  const std::string err = testing::slurp(out + ".err");
  EXPECT_NE(std::stoi(testing::slurp(out + ".rc")), 0) << err;
  EXPECT_NE(err.find("interrupted: resumable state saved"), std::string::npos) << err;
  std::ifstream state_file(out + "/last/state.json");
  ASSERT_TRUE(state_file) << err;
  const auto state = nlohmann::json::parse(state_file);
  const int64_t stopped_at = state["global_step"];
  EXPECT_GT(stopped_at, 0);
  // Both ranks resume from it and take two more steps.
  const CliRun resumed = run(args + " --nproc 2 --resume " + quote(out + "/last") +
                             " --stop-at-step " + std::to_string(stopped_at + 2));
  ASSERT_EQ(resumed.rc, 0) << resumed.err;
  const auto summary = nlohmann::json::parse(resumed.out.substr(resumed.out.rfind('{')));
  EXPECT_EQ(summary["steps"], stopped_at + 2);
}

TEST_F(DataParallelCliTest, ShardedEvalWritesTheOneProcessPredictions) {
  const CliRun t = train("eval_plugin", "--batch-size 4", 1);
  ASSERT_EQ(t.rc, 0) << t.err;
  const std::string data = dir_ + "/data/";
  const auto eval = [&](const std::string& preds, const std::string& extra) {
    return run("eval --model " + quote(model_) + " --task LaMP_3 --questions " +
               quote(data + "test_questions.json") + " --outputs " +
               quote(data + "test_outputs.json") +
               " --threads 1 --no-progress --batch-size 3 --method pplug --plugin " +
               quote(dir_ + "/eval_plugin/best") + " --preds-out " + quote(dir_ + "/" + preds) +
               " " + extra);
  };
  const CliRun one = eval("preds1.json", "");
  ASSERT_EQ(one.rc, 0) << one.err;
  const CliRun two = eval("preds2.json", "--nproc 2");
  ASSERT_EQ(two.rc, 0) << two.err;
  EXPECT_EQ(testing::slurp(dir_ + "/preds1.json"), testing::slurp(dir_ + "/preds2.json"));
  EXPECT_EQ(one.out, two.out);  // the scores, printed once
}

TEST_F(DataParallelCliTest, BadLaunchesFailWithAMessage) {
  // A worker started by hand whose peer never comes: fails within the timeout, naming rank 1.
  const std::string env =
      "RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(pick_free_port()) +
      " ";
  const CliRun alone =
      testing::run_pplug("train --model " + quote(model_) + " --task LaMP_3 --train-questions " +
                             quote(dir_ + "/data/train_questions.json") + " --train-outputs " +
                             quote(dir_ + "/data/train_outputs.json") + " --dist-timeout 2 --out " +
                             quote(dir_ + "/alone"),
                         dir_ + "/alone_run", "", env);
  EXPECT_NE(alone.rc, 0);
  EXPECT_NE(alone.err.find("rank 1"), std::string::npos) << alone.err;
  // Two ranks started by hand with different seeds: refused at start on both, naming the value.
  const std::string port = std::to_string(pick_free_port());
  const std::string args = "train --model " + quote(model_) + " --task LaMP_3 --train-questions " +
                           quote(dir_ + "/data/train_questions.json") + " --train-outputs " +
                           quote(dir_ + "/data/train_outputs.json") +
                           " --dist-timeout 20 --threads 1 --no-progress --out " +
                           quote(dir_ + "/mixed");
  const std::string rank = "MASTER_ADDR=127.0.0.1 MASTER_PORT=" + port + " WORLD_SIZE=2 RANK=";
  const std::string both = "(" + rank + "1 " + PPLUG_CLI + " " + args + " --seed 2 > " +
                           quote(dir_ + "/mixed1.out") + " 2>&1 &) ; " + rank + "0 " + PPLUG_CLI +
                           " " + args + " --seed 1 > " + quote(dir_ + "/mixed0.out") + " 2>&1";
  EXPECT_NE(std::system(both.c_str()), 0);
  const std::string mixed = testing::slurp(dir_ + "/mixed0.out");
  EXPECT_NE(mixed.find("differs across ranks"), std::string::npos) << mixed;
  EXPECT_NE(mixed.find("\"seed\":2"), std::string::npos) << mixed;
  // A file store instead of rank 0's TCP store.
  const CliRun filed = train(
      "filed", "--batch-size 2 --nproc 2 --dist-file-store " + quote(dir_ + "/store_file"), 1);
  EXPECT_EQ(filed.rc, 0) << filed.err;

  // --nproc inside a worker, and a non-numeric WORLD_SIZE.
  const CliRun nested = testing::run_pplug(
      "eval --model " + quote(model_) + " --task LaMP_3 --questions x --preds-out y --nproc 2",
      dir_ + "/nested", "", "WORLD_SIZE=2 ");
  EXPECT_NE(nested.rc, 0);
  EXPECT_NE(nested.err.find("already a worker"), std::string::npos) << nested.err;
  const CliRun bad_env = testing::run_pplug(
      "eval --model " + quote(model_) + " --task LaMP_3 --questions x --preds-out y",
      dir_ + "/bad_env", "", "RANK=0 WORLD_SIZE=two ");
  EXPECT_NE(bad_env.rc, 0);
  EXPECT_NE(bad_env.err.find("WORLD_SIZE"), std::string::npos) << bad_env.err;
}

}  // namespace
}  // namespace pplug
