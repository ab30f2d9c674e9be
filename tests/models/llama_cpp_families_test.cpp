// The Llama-family architectures against llama.cpp: the committed fixture
// (tests/models/data/llama_cpp_families, see its README) holds, per family, a tiny random model
// as a GGUF and as an HF folder, both written by numpy in each format's own layout (not by
// pplug), and what llama.cpp c392e5094 computes from the GGUF. pplug must agree from either
// file (last-position logits and greedy ids), and both files must load as the same model.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "pplug/model_io.h"

namespace pplug {
namespace {

const std::string kDir = PPLUG_LLAMA_CPP_FAMILIES_DIR;  // tests/models/data/llama_cpp_families

LoadedModel load(const std::string& path) {
  ModelLoadOptions options;
  options.load_tokenizer = false;  // the tests feed ids
  return load_model(path, options);
}

at::Tensor last_logits(const LlamaModel& model, const std::vector<int64_t>& ids) {
  const auto input = at::tensor(ids, at::kLong).unsqueeze(0);
  return model.forward(model.embed(input), {}).logits[0][-1];
}

class LlamaCppFamilies : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    std::ifstream in(kDir + "/" + GetParam() + "/llama_cpp.json");
    ASSERT_TRUE(in) << kDir << "/" << GetParam();
    ref_ = nlohmann::json::parse(in);
  }
  nlohmann::json ref_;
};

TEST_P(LlamaCppFamilies, LogitsAndGreedyIdsAgreeFromGgufAndHfFolder) {
  const std::string dir = kDir + "/" + GetParam();
  const auto gguf = load(dir + "/model.gguf");
  const auto hf = load(dir + "/hf");
  // The same weights in two layouts are one model: plug-ins trained on either run on both.
  EXPECT_EQ(gguf.model->fingerprint(), hf.model->fingerprint());
  EXPECT_EQ(gguf.model->config().model_type, hf.model->config().model_type);
  EXPECT_EQ(gguf.model->config().rope_scaling_type, hf.model->config().rope_scaling_type);

  c10::InferenceMode guard;
  const auto prompt = ref_["prompt_ids"].get<std::vector<int64_t>>();
  const auto want = at::tensor(ref_["last_logits"].get<std::vector<float>>());
  const auto greedy = ref_["greedy_ids"].get<std::vector<int64_t>>();
  for (const auto* loaded : {&gguf, &hf}) {
    const LlamaModel& model = *loaded->model;
    const char* source = loaded == &gguf ? "gguf" : "hf";
    const auto got = last_logits(model, prompt);
    ASSERT_EQ(got.numel(), want.numel()) << source;
    // Relative to the largest logit: llama.cpp keeps K and V in f16 (its default cache type)
    // and sums in other orders (and looks Gemma's GELU up in an f16 table): 2-4e-4 of the
    // largest logit here, measured; a wrong computation is off by O(1).
    const double scale = want.abs().max().item<double>();
    EXPECT_LT((got - want).abs().max().item<double>(), 1e-3 * scale) << source;
    std::vector<int64_t> ids = prompt;
    std::vector<int64_t> ours;
    for (size_t s = 0; s < greedy.size(); ++s) {
      ours.push_back(last_logits(model, ids).argmax().item<int64_t>());
      ids.push_back(greedy[s]);  // llama.cpp's token fed back, so one flip does not cascade
    }
    EXPECT_EQ(ours, greedy) << source;
  }
}

INSTANTIATE_TEST_SUITE_P(Families, LlamaCppFamilies,
                         ::testing::Values("llama", "llama31", "qwen2", "gemma", "phi3"));

// What each fixture must have been read as (so a reader that ignored a family's fields could
// not pass by matching a plain Llama).
TEST(LlamaCppFamilies, FilesReadAsTheirFamily) {
  const auto llama31 = load(kDir + "/llama31/model.gguf");
  EXPECT_EQ(llama31.model->config().rope_scaling_type, "llama3");
  EXPECT_EQ(llama31.model->config().rope_scaling_factor, 8.0);
  const auto gemma = load(kDir + "/gemma/model.gguf");
  EXPECT_EQ(gemma.model->config().hidden_act, "gelu_pytorch_tanh");
  EXPECT_DOUBLE_EQ(gemma.model->config().embedding_multiplier, std::sqrt(32.0));
  EXPECT_EQ(gemma.model->config().head_dim(), 32);
  EXPECT_TRUE(gemma.model->config().tie_word_embeddings);
  const auto phi3 = load(kDir + "/phi3/hf");
  EXPECT_EQ(phi3.model->config().model_type, "phi3");
  EXPECT_EQ(phi3.model->config().sliding_window, 255);
  const auto qwen2 = load(kDir + "/qwen2/model.gguf");
  EXPECT_TRUE(qwen2.model->config().qkv_bias);
}

// K-quant files as llama-quantize writes them (Q4_K_M: Q4_K with Q6_K for attn_v, ffn_down and
// the output; Q5_K_M: Q5_K likewise), of a one-layer model whose rows are whole 256-value blocks.
// pplug expands them at load (to f16) and computes in float. Two references: llama.cpp on a copy
// whose tensors gguf-py expanded to F32 (the same weights, float products: agrees as the float
// families do), and llama.cpp on the K-quant file itself, whose products round the activations
// to 8 bits (2.3% of the largest logit between llama.cpp's own two runs, measured).
class LlamaCppKQuants : public ::testing::TestWithParam<const char*> {};

TEST_P(LlamaCppKQuants, ExpandedWeightsGiveLlamaCppsLogits) {
  const std::string base = kDir + "/kquant/" + GetParam();
  const auto loaded = load(base + ".gguf");
  EXPECT_EQ(loaded.model->weight_type(), "f16");
  c10::InferenceMode guard;
  for (const char* reference : {".dequantized.json", ".json"}) {
    std::ifstream in(base + reference);
    ASSERT_TRUE(in) << base << reference;
    const auto ref = nlohmann::json::parse(in);
    const auto prompt = ref["prompt_ids"].get<std::vector<int64_t>>();
    const auto want = at::tensor(ref["last_logits"].get<std::vector<float>>());
    const auto got = last_logits(*loaded.model, prompt);
    const double scale = want.abs().max().item<double>();
    const double diff = (got - want).abs().max().item<double>();
    std::cout << GetParam() << reference << ": largest logit difference " << diff / scale
              << " of the largest\n";
    EXPECT_EQ(got.argmax().item<int64_t>(), want.argmax().item<int64_t>()) << reference;
    if (std::string(reference) == ".json") {
      EXPECT_LT(diff, 5e-2 * scale);
      continue;
    }
    EXPECT_LT(diff, 1e-3 * scale);
    const auto greedy = ref["greedy_ids"].get<std::vector<int64_t>>();
    std::vector<int64_t> ids = prompt, ours;
    for (const int64_t next : greedy) {
      ours.push_back(last_logits(*loaded.model, ids).argmax().item<int64_t>());
      ids.push_back(next);
    }
    EXPECT_EQ(ours, greedy);
  }
}

INSTANTIATE_TEST_SUITE_P(KQuants, LlamaCppKQuants, ::testing::Values("q4_k_m", "q5_k_m"));

}  // namespace
}  // namespace pplug
