// `pplug generate` on a T5 folder: the ids it prints are those of in-process greedy decoding,
// and options T5 does not support yet are refused by name.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <sstream>

#include "pplug/t5_generation.h"
#include "pplug/t5_io.h"
#include "pplug/tokenizer.h"
#include "support/cli_run.h"
#include "support/test_models.h"

namespace pplug {
namespace {

TEST(T5Cli, GenerateMatchesInProcessGreedy) {
  PPLUG_REQUIRE_SHARED(spm, "sentencepiece-test/test_model.model");  // a 1000-piece unigram model
  T5Config c = testing::tiny_t5_config(/*flan=*/true);
  c.vocab_size = 1024;  // padded past the tokenizer's 1000 pieces, as HF pads T5's
  const Tokenizer tokenizer(spm);
  c.eos_token_id = tokenizer.eos_id();
  auto raw = random_t5_model(c, 5);
  const std::string dir = testing::temp_dir("t5_cli") + "/flan";
  save_hf_t5_model(raw, dir, spm);

  const std::string prompt = "the quick brown fox";
  const auto run =
      testing::run_pplug("generate --model " + testing::quote(dir) + " --prompt " +
                             testing::quote(prompt) + " --max-new-tokens 7 --print-ids --threads 1",
                         dir + "/generate");
  ASSERT_EQ(run.rc, 0) << run.err;
  const auto ids_in = tokenizer.encode(prompt, false, true);
  const T5Model model(raw.config, raw.weights);
  T5GenerationOptions options;
  options.max_new_tokens = 7;
  const auto generated =
      t5_generate_greedy(model, {std::vector<int64_t>(ids_in.begin(), ids_in.end())}, options);
  std::string expected;
  for (int id : ids_in) expected += std::to_string(id) + " ";
  for (int64_t id : generated[0]) expected += std::to_string(id) + " ";
  expected.pop_back();
  std::istringstream lines(run.out);
  std::string line, last;
  while (std::getline(lines, line)) {
    if (!line.empty()) last = line;
  }
  EXPECT_EQ(last, expected) << run.out;

  const auto beams = testing::run_pplug(
      "generate --model " + testing::quote(dir) + " --prompt x --beams 2", dir + "/beams");
  EXPECT_NE(beams.rc, 0);
  EXPECT_NE(beams.err.find("--beams: " + dir + " is a T5 model"), std::string::npos) << beams.err;
}

}  // namespace
}  // namespace pplug
