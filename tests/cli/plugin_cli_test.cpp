// The plug-in verbs of the `pplug` tool (plugin-init, embed, generate --plugin) and the golden
// outputs of tokenize / generate, run as a user would: the built binary on the real stories260K.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "pplug/text_encoder.h"
#include "support/cli_run.h"
#include "support/test_models.h"

namespace pplug {
namespace {

namespace fs = std::filesystem;

using testing::CliRun;
using testing::quote;

void write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

class PluginCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = testing::shared_model_path("stories260K/stories260K.bin");
    if (model_.empty()) return;
    dir_ = testing::temp_dir("plugin_cli");
    plugin_ = dir_ + "/plugin";
    write(dir_ + "/history.json", R"([
      {"id": "h1", "text": "The dog ran to the park and played with a red ball.", "score": 5},
      {"id": "h2", "text": "The cat was sad because it was raining all day.", "score": "2"},
      {"text": "Lily liked to eat cake with her mom.", "score": "4"}
    ])");
    write(dir_ + "/questions.json", R"([
      {"id": "q1", "input": "What is the score of this review? review: the ball was fun",
       "profile": [{"id": "p1", "text": "I love my little dog.", "score": "5"},
                   {"id": "p2", "text": "The tree was too big.", "score": "3"}]},
      {"id": "q2", "input": "What is the score of this review? review: a sad day",
       "profile": [{"id": "p3", "text": "Tom had a big boat.", "score": "1"}]}
    ])");
    init_ = run("plugin-init --model " + quote(model_) + " --task LaMP_3 --seed 7 --out " +
                quote(plugin_));
  }

  void SetUp() override {
    if (model_.empty()) GTEST_SKIP() << "../shared/models/stories260K is absent";
    ASSERT_EQ(init_.rc, 0) << init_.err;
  }

  // Runs `pplug <args>` with its output in temporary files.
  static CliRun run(const std::string& args, const std::string& stdin_text = "") {
    static int counter = 0;
    const std::string base = dir_ + "/run" + std::to_string(counter++);
    if (!stdin_text.empty()) write(base + ".in", stdin_text);
    return testing::run_pplug(args, base, stdin_text.empty() ? "" : base + ".in");
  }

  static std::string base_args() { return "--model " + quote(model_) + " --threads 1 "; }
  static std::string plugin_args() { return base_args() + "--plugin " + quote(plugin_) + " "; }

  static std::string model_, dir_, plugin_;
  static CliRun init_;
};

std::string PluginCliTest::model_, PluginCliTest::dir_, PluginCliTest::plugin_;
CliRun PluginCliTest::init_;

TEST_F(PluginCliTest, InitWritesAPluginFolder) {
  EXPECT_TRUE(fs::exists(plugin_ + "/manifest.json"));
  EXPECT_TRUE(fs::exists(plugin_ + "/plugin.safetensors"));
  const auto summary = nlohmann::json::parse(init_.out);
  EXPECT_EQ(summary["task"], "LaMP_3");
  EXPECT_EQ(summary["encoder"], "llm");
  EXPECT_EQ(summary["llm_dim"], 64);
  EXPECT_EQ(summary["encoder_dim"], 64);
}

TEST_F(PluginCliTest, EmbedFromJsonHistoryAndFromQuestionsFile) {
  const std::string user = dir_ + "/user.safetensors";
  const CliRun a = run("embed " + plugin_args() + "--history " + quote(dir_ + "/history.json") +
                       " --out " + quote(user));
  ASSERT_EQ(a.rc, 0) << a.err;
  const auto summary = nlohmann::json::parse(a.out);
  EXPECT_EQ(summary["items"], 3);
  EXPECT_EQ(summary["dims"]["item_vectors"], 64);
  EXPECT_EQ(summary["dims"]["item_projections"], 64);
  EXPECT_GE(summary["seconds"].get<double>(), 0.0);
  EXPECT_TRUE(fs::exists(user));

  const CliRun b =
      run("embed " + plugin_args() + "--task LaMP_3 --history " + quote(dir_ + "/questions.json") +
          " --id q1 --out " + quote(dir_ + "/q1.safetensors"));
  ASSERT_EQ(b.rc, 0) << b.err;
  EXPECT_EQ(nlohmann::json::parse(b.out)["items"], 2);
}

TEST_F(PluginCliTest, GenerateWithSavedUserEqualsOnTheFlyHistory) {
  const std::string user = dir_ + "/user_gen.safetensors";
  ASSERT_EQ(run("embed " + plugin_args() + "--history " + quote(dir_ + "/history.json") +
                " --out " + quote(user))
                .rc,
            0);
  const std::string prompt = " --prompt 'What is the score of this review? review: a dog' ";
  const std::string gen = "generate " + plugin_args() + "--max-new-tokens 12 --print-ids" + prompt;
  const CliRun from_user = run(gen + "--user " + quote(user));
  const CliRun from_history = run(gen + "--history " + quote(dir_ + "/history.json"));
  ASSERT_EQ(from_user.rc, 0) << from_user.err;
  ASSERT_EQ(from_history.rc, 0) << from_history.err;
  EXPECT_EQ(from_user.out, from_history.out);
  // The last line starts with BOS then the prompt ids (soft tokens have none).
  const std::string last =
      from_user.out.substr(from_user.out.rfind('\n', from_user.out.size() - 2) + 1);
  EXPECT_EQ(last.rfind("1 ", 0), 0u) << last;

  // A LaMP question: the prompt defaults to its input, the history to its profile.
  const std::string q1_user = dir_ + "/q1_gen.safetensors";
  ASSERT_EQ(run("embed " + plugin_args() + "--history " + quote(dir_ + "/questions.json") +
                " --id q1 --out " + quote(q1_user))
                .rc,
            0);
  const CliRun by_id = run("generate " + plugin_args() + "--max-new-tokens 12 --history " +
                           quote(dir_ + "/questions.json") + " --id q1");
  const CliRun by_user =
      run("generate " + plugin_args() + "--max-new-tokens 12 --user " + quote(q1_user) +
          " --prompt 'What is the score of this review? review: the ball was fun'");
  ASSERT_EQ(by_id.rc, 0) << by_id.err;
  ASSERT_EQ(by_user.rc, 0) << by_user.err;
  EXPECT_EQ(by_id.out, by_user.out);
}

TEST_F(PluginCliTest, HistoryErrorsNameTheFileAndId) {
  const std::string questions = dir_ + "/questions.json";
  const CliRun no_id = run("embed " + plugin_args() + "--history " + quote(questions) + " --out " +
                           quote(dir_ + "/x.safetensors"));
  EXPECT_EQ(no_id.rc, 1);
  EXPECT_NE(no_id.err.find("--id"), std::string::npos) << no_id.err;
  EXPECT_NE(no_id.err.find(questions), std::string::npos) << no_id.err;

  const CliRun unknown = run("embed " + plugin_args() + "--history " + quote(questions) +
                             " --id nope --out " + quote(dir_ + "/x.safetensors"));
  EXPECT_EQ(unknown.rc, 1);
  EXPECT_NE(unknown.err.find("'nope'"), std::string::npos) << unknown.err;
  EXPECT_NE(unknown.err.find(questions), std::string::npos) << unknown.err;

  const std::string bad = dir_ + "/bad_history.json";
  write(bad, R"([{"id": "h1", "text": "unterminated)");
  const CliRun malformed = run("generate " + plugin_args() + "--prompt hi --history " + quote(bad));
  EXPECT_EQ(malformed.rc, 1);
  EXPECT_NE(malformed.err.find(bad), std::string::npos) << malformed.err;

  // A number past double's range is nlohmann's out_of_range, not a parse_error: still a clear
  // error naming the file (found by fuzzing the server's bodies, which share the pattern).
  const std::string huge = dir_ + "/huge_history.json";
  write(huge, R"([{"id": "h1", "text": "a", "score": 1e999}])");
  const CliRun out_of_range = run("embed " + plugin_args() + "--history " + quote(huge) +
                                  " --out " + quote(dir_ + "/x.safetensors"));
  EXPECT_EQ(out_of_range.rc, 1);
  EXPECT_NE(out_of_range.err.find("pplug: error: " + huge + ": malformed history JSON"),
            std::string::npos)
      << out_of_range.err;

  const std::string nested = dir_ + "/nested_history.json";
  write(nested, R"([{"id": "h1", "text": ["not", "a", "string"]}])");
  const CliRun wrong_type = run("embed " + plugin_args() + "--history " + quote(nested) +
                                " --out " + quote(dir_ + "/x.safetensors"));
  EXPECT_EQ(wrong_type.rc, 1);
  EXPECT_NE(wrong_type.err.find("'text'"), std::string::npos) << wrong_type.err;
  EXPECT_FALSE(fs::exists(dir_ + "/x.safetensors"));

  const CliRun wrong_task =
      run("embed " + plugin_args() + "--task LaMP_2 --history " + quote(dir_ + "/history.json") +
          " --out " + quote(dir_ + "/x.safetensors"));
  EXPECT_EQ(wrong_task.rc, 1);
  EXPECT_NE(wrong_task.err.find("LaMP_3"), std::string::npos) << wrong_task.err;

  const CliRun no_user = run("generate " + plugin_args() + "--prompt hi");
  EXPECT_EQ(no_user.rc, 1);
  EXPECT_NE(no_user.err.find("--user"), std::string::npos) << no_user.err;
}

TEST_F(PluginCliTest, PluginForAnotherModelIsRefused) {
  const std::string other = dir_ + "/other";
  fs::create_directories(other);
  const CliRun made =
      run("random-model --dim 64 --hidden 172 --layers 5 --heads 8 --kv-heads 4 "
          "--vocab 512 --seq-len 512 --seed 3 --out " +
          quote(other + "/model.bin"));
  ASSERT_EQ(made.rc, 0) << made.err;
  fs::copy_file(testing::shared_model_path("stories260K/tok512.model"), other + "/tok512.model");
  const CliRun refused = run("embed --model " + quote(other + "/model.bin") + " --plugin " +
                             quote(plugin_) + " --history " + quote(dir_ + "/history.json") +
                             " --out " + quote(dir_ + "/y.safetensors"));
  EXPECT_EQ(refused.rc, 1);
  EXPECT_NE(refused.err.find("trained for LLM"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find(plugin_), std::string::npos) << refused.err;
  EXPECT_FALSE(fs::exists(dir_ + "/y.safetensors"));
}

// A GGUF file converted from the model holds the same weights, so the plug-in made for the
// llama2.c file runs on it unchanged (same fingerprint), and gives the same output; a Q8_0 copy
// is another model, which the plug-in refuses by fingerprint.
TEST_F(PluginCliTest, ConvertedGgufRunsThePluginOfItsSource) {
  const std::string gguf = dir_ + "/model.gguf";
  const CliRun converted = run("convert --model " + quote(model_) + " --out " + quote(gguf));
  ASSERT_EQ(converted.rc, 0) << converted.err;
  const std::string tail =
      "--threads 1 --plugin " + quote(plugin_) + " --max-new-tokens 12 --print-ids --history " +
      quote(dir_ + "/history.json") + " --prompt 'What is the score of this review? review: a dog'";
  const CliRun from_bin = run("generate --model " + quote(model_) + " " + tail);
  const CliRun from_gguf = run("generate --model " + quote(gguf) + " " + tail);
  ASSERT_EQ(from_bin.rc, 0) << from_bin.err;
  ASSERT_EQ(from_gguf.rc, 0) << from_gguf.err;
  EXPECT_EQ(from_gguf.out, from_bin.out);

  const std::string q8 = dir_ + "/model-q8.gguf";
  ASSERT_EQ(run("convert --model " + quote(model_) + " --out " + quote(q8) + " --dtype q8_0").rc,
            0);
  const CliRun refused = run("generate --model " + quote(q8) + " " + tail);
  EXPECT_EQ(refused.rc, 1);
  EXPECT_NE(refused.err.find("trained for LLM"), std::string::npos) << refused.err;
  // --dtype is only for GGUF output.
  const CliRun wrong = run("convert --model " + quote(model_) + " --out " + quote(dir_ + "/hf_q8") +
                           " --dtype q8_0");
  EXPECT_NE(wrong.rc, 0);
  EXPECT_NE(wrong.err.find("--dtype q8_0"), std::string::npos) << wrong.err;
}

TEST_F(PluginCliTest, BertEncoderFolder) {
  const std::string bert = testing::tiny_bert_dir("cli_bert");
  if (bert.empty()) GTEST_SKIP() << "../shared/models/bert-base-uncased-vocab is absent";
  const std::string plugin = dir_ + "/bert_plugin";
  const CliRun init = run("plugin-init " + base_args() + "--encoder " + quote(bert) +
                          " --task LaMP_3 --out " + quote(plugin));
  ASSERT_EQ(init.rc, 0) << init.err;
  EXPECT_EQ(nlohmann::json::parse(init.out)["encoder"], "bert");
  EXPECT_EQ(nlohmann::json::parse(init.out)["encoder_dim"], 32);
  const std::string history = " --history " + quote(dir_ + "/history.json");
  const CliRun embed = run("embed " + base_args() + "--encoder " + quote(bert) + " --plugin " +
                           quote(plugin) + history + " --out " + quote(dir_ + "/bert_user.st"));
  ASSERT_EQ(embed.rc, 0) << embed.err;
  EXPECT_EQ(nlohmann::json::parse(embed.out)["dims"]["item_vectors"], 32);
  // Without --encoder the LLM would encode the history: the plug-in refuses it.
  const CliRun wrong = run("embed " + base_args() + "--plugin " + quote(plugin) + history +
                           " --out " + quote(dir_ + "/bert_user2.st"));
  EXPECT_EQ(wrong.rc, 1);
  EXPECT_NE(wrong.err.find("bert encoder"), std::string::npos) << wrong.err;
}

// The launcher chooses passive OpenMP waits before libtorch loads, keeps a policy the user set,
// and says clearly when the tool's module cannot be loaded.
TEST_F(PluginCliTest, LauncherSetsTheOpenMpWaitPolicy) {
  const std::string bench = "bench " + base_args() + "--prompt-tokens 4 --new-tokens 2 --repeats 1";
  const char* outer = std::getenv("OMP_WAIT_POLICY");
  const std::string saved = outer != nullptr ? outer : "";
  ::unsetenv("OMP_WAIT_POLICY");
  const CliRun passive = run(bench);
  ::setenv("OMP_WAIT_POLICY", "active", 1);
  const CliRun active = run(bench);
  ::setenv("PPLUG_CLI_MODULE", (dir_ + "/missing.so").c_str(), 1);
  const CliRun missing = run(bench);
  ::unsetenv("PPLUG_CLI_MODULE");
  if (outer != nullptr) {
    ::setenv("OMP_WAIT_POLICY", saved.c_str(), 1);
  } else {
    ::unsetenv("OMP_WAIT_POLICY");
  }
  ASSERT_EQ(passive.rc, 0) << passive.err;
  ASSERT_EQ(active.rc, 0) << active.err;
  EXPECT_EQ(nlohmann::json::parse(passive.out)["omp_wait_policy"], "passive");
  EXPECT_EQ(nlohmann::json::parse(active.out)["omp_wait_policy"], "active");
  EXPECT_EQ(missing.rc, 2);
  EXPECT_NE(missing.err.find("missing.so"), std::string::npos) << missing.err;
}

TEST_F(PluginCliTest, TokenizeGolden) {
  const std::string tok = quote(testing::shared_model_path("stories260K/tok512.model"));
  const CliRun plain = run("tokenize --tokenizer " + tok + " --text 'Once upon a time'");
  ASSERT_EQ(plain.rc, 0) << plain.err;
  EXPECT_EQ(plain.out, "403 407 261 378\n");
  const CliRun bos = run("tokenize --bos --tokenizer " + tok + " --text 'Once upon a time'");
  EXPECT_EQ(bos.out, "1 403 407 261 378\n");
  const CliRun piped = run("tokenize --tokenizer " + tok, "Once upon a time\n");
  ASSERT_EQ(piped.rc, 0) << piped.err;
  // Standard input is tokenized as is: the trailing newline is the byte token <0x0A> (13).
  EXPECT_EQ(piped.out, "403 407 261 378 13\n");
}

// tokenizer.json (file or folder) and GGUF vocabularies give Hugging Face's ids
// (../shared/models/llama3-tokenizer/tests.out).
TEST_F(PluginCliTest, TokenizeTokenizerJsonAndGguf) {
  PPLUG_REQUIRE_SHARED(json, "llama3-tokenizer/tokenizer.json");
  const CliRun plain = run("tokenize --tokenizer " + quote(json) + " --text 'Hello world'");
  ASSERT_EQ(plain.rc, 0) << plain.err;
  EXPECT_EQ(plain.out, "9906 1917\n");
  const std::string folder = fs::path(json).parent_path().string();
  const CliRun bos =
      run("tokenize --bos --tokenizer " + quote(folder) + " --text ' Hello, world!'");
  ASSERT_EQ(bos.rc, 0) << bos.err;
  EXPECT_EQ(bos.out, "128000 22691 11 1917 0\n");
  PPLUG_REQUIRE_SHARED(gguf, "gguf-vocab/ggml-vocab-gpt-2.gguf");
  const CliRun g = run("tokenize --tokenizer " + quote(gguf) + " --text 'Hello world'");
  ASSERT_EQ(g.rc, 0) << g.err;
  EXPECT_EQ(g.out, "15496 995\n");
  const CliRun bad = run("tokenize --tokenizer " + quote(dir_ + "/history.json") + " --text x");
  EXPECT_NE(bad.rc, 0);
  EXPECT_NE(bad.err.find("history.json"), std::string::npos) << bad.err;
}

TEST_F(PluginCliTest, GeneratePrintIdsGolden) {
  const CliRun r = run("generate " + base_args() +
                       "--prompt 'Once upon a time' --max-new-tokens 20 --print-ids");
  ASSERT_EQ(r.rc, 0) << r.err;
  const std::string expected =
      "1 403 407 261 378 432 383 286 261 376 298 315 421 395 317 426 338 401 396 267 337 410 408 "
      "419 292\n";
  ASSERT_GE(r.out.size(), expected.size());
  EXPECT_EQ(r.out.substr(r.out.size() - expected.size()), expected) << r.out;
}

}  // namespace
}  // namespace pplug
