// T5 against llama.cpp: the committed fixture (tests/models/data/t5_llama_cpp, see its README)
// holds a tiny random T5 as a GGUF and as an HF folder, both written by numpy, and what
// llama.cpp c392e5094 computes from the GGUF. pplug must agree from either file: encoder input
// ids, encoder output, the first decoder logits, and greedy ids.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "pplug/generation.h"
#include "pplug/t5_io.h"

namespace pplug {
namespace {

const std::string kDir = PPLUG_T5_LLAMA_CPP_DIR;  // tests/models/data/t5_llama_cpp

class T5LlamaCpp : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    std::ifstream in(kDir + "/llama_cpp.json");
    ASSERT_TRUE(in) << kDir;
    ref_ = nlohmann::json::parse(in);
    ModelLoadOptions options;
    options.tokenizer_path = kDir + "/t5.gguf";  // the HF folder has no spiece.model
    loaded_ = load_t5_model(kDir + "/" + GetParam(), options);
  }
  nlohmann::json ref_;
  LoadedT5Model loaded_;
};

TEST_P(T5LlamaCpp, EncoderDecoderAndGreedyIdsAgree) {
  const T5Model& model = *loaded_.model;
  const auto ids = loaded_.tokenizer->encode("the cat sat on the mat", false, true);
  ASSERT_EQ(ids, ref_["input_ids"].get<std::vector<int>>());

  const int64_t n = static_cast<int64_t>(ids.size()), d = ref_["d_model"];
  const auto input = at::tensor(std::vector<int64_t>(ids.begin(), ids.end())).unsqueeze(0);
  const auto states = model.encode(model.embed(input));  // (1, n, d)
  const auto want_states =
      at::tensor(ref_["encoder_output"].get<std::vector<float>>()).view({1, n, d});
  EXPECT_LT((states - want_states).abs().max().item<double>(), 1e-4);

  // Decoder logits of the first steps, greedy, as llama.cpp fed them.
  const auto greedy = ref_["greedy_ids"].get<std::vector<int64_t>>();
  const auto& logits_ref = ref_["decoder_logits"];
  T5DecoderCache cache(model, states, {}, static_cast<int64_t>(greedy.size()));
  int64_t next = model.config().decoder_start_token_id;
  T5DecodeOptions last;
  last.last_logits_only = true;
  for (size_t s = 0; s < logits_ref.size(); ++s) {
    const auto logits = model.decode_step(model.embed(at::tensor({next}).view({1, 1})), cache, last)
                            .logits.view(-1);
    const auto want = at::tensor(logits_ref[s].get<std::vector<float>>());
    // Within 1e-4 of the largest logit: ggml's GELU (a tanh approximation, as gelu_new) and its
    // summation order leave ~2e-5 of it (measured); a wrong computation is off by O(1).
    const double scale = want.abs().max().item<double>();
    EXPECT_LT((logits - want).abs().max().item<double>(), 1e-4 * scale) << "step " << s;
    next = greedy[s];
  }

  // Greedy ids through the model interface, fed past EOS as llama.cpp's dump does.
  const Generator generator(make_language_model(loaded_.model), loaded_.tokenizer);
  GenerationOptions options;
  options.max_new_tokens = static_cast<int>(greedy.size());
  options.stop_at_eos = false;
  const auto result = generator.generate_ids({ids}, options).front();
  EXPECT_EQ(std::vector<int64_t>(result.generated_ids.begin(), result.generated_ids.end()), greedy);
}

INSTANTIATE_TEST_SUITE_P(T5, T5LlamaCpp, ::testing::Values("t5.gguf", "hf"));

}  // namespace
}  // namespace pplug
