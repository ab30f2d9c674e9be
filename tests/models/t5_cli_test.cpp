// `pplug generate` on a T5 folder: the ids it prints are those of in-process greedy decoding,
// and sampling, beams and stop strings run through the same generator as for Llama.
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
  c.vocab_size = 1000;  // the tokenizer's pieces: greedy may pick any id, as T5Model's does
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
  // The CLI prints generated ids without the EOS that ends them.
  for (int64_t id : generated[0]) {
    if (id != tokenizer.eos_id()) expected += std::to_string(id) + " ";
  }
  expected.pop_back();
  std::istringstream lines(run.out);
  std::string line, last;
  while (std::getline(lines, line)) {
    if (!line.empty()) last = line;
  }
  EXPECT_EQ(last, expected) << run.out;

  // Beam search, sampling and stop strings, over an embedding padded past the tokenizer (as HF
  // pads T5's): ids without a piece are never generated, so every output decodes.
  c.vocab_size = 1024;
  save_hf_t5_model(random_t5_model(c, 6), dir + "_padded", spm);
  for (const std::string options :
       {"--beams 3", "--temperature 1.5 --seed 2 --top-p 0.9", "--stop ing --stream"}) {
    const auto other =
        testing::run_pplug("generate --model " + testing::quote(dir + "_padded") +
                               " --prompt x --max-new-tokens 6 --print-ids " + options,
                           dir + "/options");
    ASSERT_EQ(other.rc, 0) << options << ": " << other.err;
    std::istringstream out(other.out.substr(other.out.rfind('\n', other.out.size() - 2) + 1));
    int id = 0, count = 0;
    while (out >> id) {
      EXPECT_LT(id, tokenizer.vocab_size()) << options;
      ++count;
    }
    EXPECT_GE(count, 2) << other.out;
  }
}

}  // namespace
}  // namespace pplug
