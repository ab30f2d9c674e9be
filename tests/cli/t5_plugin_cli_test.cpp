// The plug-in verbs over a T5 folder, as over Llama: `pplug train` with no recipe flag, then
// `pplug eval` with the plug-in and with both baselines, writing LaMP prediction files. A tiny
// random FlanT5-layout model with the stories260K tokenizer as its spiece.model.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <string>

#include "pplug/t5_io.h"
#include "support/cli_run.h"
#include "support/test_models.h"

namespace pplug {
namespace {

using testing::CliRun;
using testing::quote;

TEST(PluginCliOverT5, TrainThenEvalWithThePluginAndTheBaselines) {
  PPLUG_REQUIRE_SHARED(spm, "stories260K/tok512.model");
  const std::string dir = testing::temp_dir("t5_plugin_cli");
  const Tokenizer tokenizer(spm);
  T5Config c = testing::tiny_t5_config(/*flan=*/true);
  c.vocab_size = 512;
  c.eos_token_id = tokenizer.eos_id();
  save_hf_t5_model(random_t5_model(c, 3, /*init_std=*/0.3), dir + "/t5", spm);
  int counter = 0;
  const auto run = [&](const std::string& args) {
    return testing::run_pplug(args, dir + "/run" + std::to_string(counter++));
  };
  const CliRun synth = run("synth --kind tagging --users 6 --questions-per-user 2 --seed 2 --out " +
                           quote(dir + "/data"));
  ASSERT_EQ(synth.rc, 0) << synth.err;
  const std::string data = dir + "/data/";
  const CliRun train =
      run("train --model " + quote(dir + "/t5") + " --task LaMP_2 --train-questions " +
          quote(data + "train_questions.json") + " --train-outputs " +
          quote(data + "train_outputs.json") + " --epochs 1 --threads 1 --no-progress --out " +
          quote(dir + "/out"));
  ASSERT_EQ(train.rc, 0) << train.err;
  const auto summary = nlohmann::json::parse(train.out.substr(train.out.rfind('{')));
  EXPECT_GT(summary["steps"].get<int>(), 0) << train.out;
  EXPECT_TRUE(std::isfinite(summary["last_loss"].get<double>())) << train.out;
  std::ifstream manifest_file(dir + "/out/best/manifest.json");
  ASSERT_TRUE(manifest_file);
  const auto manifest = nlohmann::json::parse(manifest_file);
  EXPECT_EQ(manifest["llm"]["num_hidden_layers"], 4);  // 2 encoder + 2 decoder blocks
  EXPECT_EQ(manifest["encoder"]["spec"], "llm:last/mean");

  for (const std::string method : {"pplug", "none", "rag-bm25"}) {
    const std::string preds = dir + "/preds_" + method + ".json";
    const CliRun eval =
        run("eval --model " + quote(dir + "/t5") + " --task LaMP_2 --questions " +
            quote(data + "test_questions.json") + " --outputs " +
            quote(data + "test_outputs.json") + " --threads 1 --no-progress --method " + method +
            (method == "pplug" ? " --plugin " + quote(dir + "/out/best") : std::string()) +
            " --preds-out " + quote(preds));
    ASSERT_EQ(eval.rc, 0) << method << ": " << eval.err;
    EXPECT_NE(eval.out.find("accuracy"), std::string::npos) << eval.out;
    std::ifstream in(preds);
    ASSERT_TRUE(in) << preds;
    const auto file = nlohmann::json::parse(in);
    EXPECT_EQ(file["task"], "LaMP_2");
    std::ifstream questions(data + "test_questions.json");
    EXPECT_EQ(file["golds"].size(), nlohmann::json::parse(questions).size());
  }
}

}  // namespace
}  // namespace pplug
