// `pplug train` as a user runs it: with no recipe flags it trains the input-aware recipe chosen
// for the model, records it in the plug-in, and `pplug eval` needs no flag repeated; every flag
// given overrides its part of the recipe. Real stories260K, a few synthetic users, one epoch.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>

#include "support/cli_run.h"
#include "support/test_models.h"

namespace pplug {
namespace {

using testing::CliRun;
using testing::quote;

class TrainCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = testing::shared_model_path("stories260K/stories260K.bin");
    if (model_.empty()) return;
    dir_ = testing::temp_dir("train_cli");
    synth_ = run("synth --kind tagging-by-topic --users 12 --questions-per-user 2 --seed 3 --out " +
                 quote(dir_ + "/data"));
  }

  void SetUp() override {
    if (model_.empty()) GTEST_SKIP() << "../shared/models/stories260K is absent";
    ASSERT_EQ(synth_.rc, 0) << synth_.err;
  }

  static CliRun run(const std::string& args) {
    static int counter = 0;
    return testing::run_pplug(args, dir_ + "/run" + std::to_string(counter++));
  }

  // `pplug train` on the synthetic training split, one epoch, into dir_/out; then `extra`.
  static CliRun train(const std::string& out, const std::string& extra) {
    const std::string data = dir_ + "/data/";
    return run("train --model " + quote(model_) + " --task LaMP_2 --train-questions " +
               quote(data + "train_questions.json") + " --train-outputs " +
               quote(data + "train_outputs.json") + " --epochs 1 --threads 1 --no-progress --out " +
               quote(dir_ + "/" + out) + " " + extra);
  }

  static nlohmann::json manifest(const std::string& out) {
    std::ifstream in(dir_ + "/" + out + "/best/manifest.json");
    return nlohmann::json::parse(in);
  }

  static std::string model_, dir_;
  static CliRun synth_;
};

std::string TrainCliTest::model_, TrainCliTest::dir_;
CliRun TrainCliTest::synth_;

TEST_F(TrainCliTest, NoRecipeFlagsTrainTheInputAwareRecipeAndEvalNeedsNoFlags) {
  const CliRun t = train("auto", "");
  ASSERT_EQ(t.rc, 0) << t.err;
  EXPECT_NE(t.err.find("recipe auto: hidden width 64"), std::string::npos) << t.err;
  EXPECT_NE(t.err.find("llama2.c checkpoint"), std::string::npos) << t.err;
  const auto m = manifest("auto");
  EXPECT_EQ(m["encoder"]["spec"], "llm:last/mean");
  const auto& c = m["config"];
  EXPECT_EQ(c["aggregator"], "learned-temperature");
  EXPECT_EQ(c["scores"], "standardized");
  EXPECT_EQ(c["num_persona_tokens"], 2);
  EXPECT_EQ(c["placement"], "before-answer");
  EXPECT_EQ(c["end_with_eos"], false);
  // The run's options went to the resumable state: lr and history copies of the recipe, the
  // epochs given on the command line.
  std::ifstream in(dir_ + "/auto/last/state.json");
  ASSERT_TRUE(in) << "no state.json";
  const auto state = nlohmann::json::parse(in);
  EXPECT_DOUBLE_EQ(state["run"]["lr"].get<double>(), 1e-2) << state.dump();
  EXPECT_EQ(state["run"]["history_dropout_copies"], 1) << state.dump();
  EXPECT_EQ(state["run"]["epochs"], 1) << state.dump();

  const std::string data = dir_ + "/data/";
  const CliRun e =
      run("eval --model " + quote(model_) + " --task LaMP_2 --questions " +
          quote(data + "test_questions.json") + " --outputs " + quote(data + "test_outputs.json") +
          " --threads 1 --no-progress " + "--method pplug --plugin " + quote(dir_ + "/auto/best") +
          " --preds-out " + quote(dir_ + "/preds.json"));
  ASSERT_EQ(e.rc, 0) << e.err;
  EXPECT_NE(e.out.find("accuracy"), std::string::npos) << e.out;
}

TEST_F(TrainCliTest, FlagsOverrideTheirPartOfTheRecipe) {
  const CliRun t = train("reference", "--recipe reference --no-eos --persona-tokens 3");
  ASSERT_EQ(t.rc, 0) << t.err;
  const auto m = manifest("reference");
  EXPECT_EQ(m["encoder"]["spec"], "llm:mean");
  const auto& c = m["config"];
  EXPECT_EQ(c["aggregator"], "attention");
  EXPECT_EQ(c["scores"], "cosine");
  EXPECT_EQ(c["num_persona_tokens"], 3);
  EXPECT_EQ(c["placement"], "after-bos");
  EXPECT_EQ(c["end_with_eos"], false);

  const CliRun eos = train("eos", "--eos --placement after-bos --encoder llm:last");
  ASSERT_EQ(eos.rc, 0) << eos.err;
  EXPECT_EQ(manifest("eos")["config"]["end_with_eos"], true);
  EXPECT_EQ(manifest("eos")["config"]["placement"], "after-bos");
  EXPECT_EQ(manifest("eos")["encoder"]["spec"], "llm:last");
}

TEST_F(TrainCliTest, BadRecipesAndContradictoryFlagsAreRefused) {
  const CliRun bad = train("bad", "--recipe paper");
  EXPECT_NE(bad.rc, 0);
  EXPECT_NE(bad.err.find("unknown recipe 'paper'"), std::string::npos) << bad.err;
  const CliRun both = train("both", "--eos --no-eos");
  EXPECT_NE(both.rc, 0);
  EXPECT_NE(both.err.find("--no-eos"), std::string::npos) << both.err;
}

}  // namespace
}  // namespace pplug
