// Models whose matrices are stored as f16, Q8_0 or Q4_0: same fingerprint as the float model they
// were made from, logits and gradients close to it, decode equal to the full forward, and the
// real stories260K's perplexity within 1% of float32 at Q8_0.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <cmath>

#include "pplug/error.h"
#include "pplug/model_io.h"
#include "pplug/tokenizer.h"
#include "support/test_models.h"

namespace pplug {
namespace {

// d 64 and hidden 96: every matrix holds whole 32-weight blocks.
RawModel block_friendly_model() {
  auto config = testing::tiny_config(256);
  config.hidden_size = 64;
  config.intermediate_size = 96;
  return random_model(config, 11, 0.05);
}

double relative_error(const at::Tensor& got, const at::Tensor& want) {
  return ((got - want).norm() / want.norm()).item<double>();
}

TEST(WeightTypeModels, KeepTheFingerprintAndStayCloseToFloat32) {
  const auto raw = block_friendly_model();
  const LlamaModel reference(raw.config, raw.weights);
  c10::InferenceMode guard;
  auto ids = at::randint(0, 256, {2, 9}, at::kLong);
  const auto want = reference.forward(reference.embed(ids), {}).logits;
  // Relative logit error each type may make on this random model (measured: 5e-4, 1.4e-2,
  // 0.20; Q4_0 keeps 16 levels per block, and random weights have no outliers to spare).
  for (const auto& [type, bound] :
       {std::pair{"f16", 2e-3}, std::pair{"q8_0", 3e-2}, std::pair{"q4_0", 0.35}}) {
    const LlamaModel model(raw.config, raw.weights, torch::kFloat32, "tiny", type);
    EXPECT_EQ(model.weight_type(), type);
    EXPECT_EQ(model.fingerprint(), reference.fingerprint()) << type;
    const double error = relative_error(model.forward(model.embed(ids), {}).logits, want);
    std::cout << type << " relative logit error " << error << "\n";
    EXPECT_LT(error, bound) << type;
  }
}

TEST(WeightTypeModels, DecodeStepsMatchTheFullForward) {
  const auto raw = block_friendly_model();
  for (const char* type : {"f16", "q8_0", "q4_0"}) {
    const LlamaModel model(raw.config, raw.weights, torch::kFloat32, "tiny", type);
    c10::InferenceMode guard;
    auto ids = at::tensor(std::vector<int64_t>{5, 9, 11, 40, 41, 42, 3}, at::kLong).unsqueeze(0);
    const auto full = model.forward(model.embed(ids), {}).logits;  // panel GEMM path
    KVCache cache(model, 1, 8);
    model.forward(model.embed(ids.narrow(1, 0, 3)), {}, &cache);
    for (int64_t t = 3; t < 7; ++t) {
      const auto step = model.forward(model.embed(ids.narrow(1, t, 1)), {}, &cache).logits;
      // The decode kernels of the quantized types multiply int8-rounded activations.
      const double error = relative_error(step[0][0], full[0][t]);
      if (t == 6) std::cout << type << " decode vs forward relative error " << error << "\n";
      EXPECT_LT(error, 2e-2) << type << " position " << t;
    }
  }
}

TEST(WeightTypeModels, GradientReachesTheInputsThroughQuantizedWeights) {
  const auto raw = block_friendly_model();
  const LlamaModel reference(raw.config, raw.weights);
  auto gradient = [&](const LlamaModel& model) {
    auto embeds =
        model.embed(at::tensor(std::vector<int64_t>{4, 8, 15, 16, 23}, at::kLong).unsqueeze(0))
            .detach()
            .requires_grad_(true);
    auto logits = model.forward(embeds, {}).logits;
    auto loss = at::cross_entropy_loss(logits.view({5, -1}),
                                       at::tensor(std::vector<int64_t>{8, 15, 16, 23, 42}));
    loss.backward();
    return embeds.grad();
  };
  const auto want = gradient(reference);
  for (const auto& [type, bound] : {std::pair{"f16", 5e-3}, std::pair{"q8_0", 5e-2}}) {
    const LlamaModel model(raw.config, raw.weights, torch::kFloat32, "tiny", type);
    const auto got = gradient(model);
    ASSERT_TRUE(got.defined()) << type;
    std::cout << type << " relative gradient error " << relative_error(got, want) << "\n";
    EXPECT_LT(relative_error(got, want), bound) << type;
  }
}

TEST(WeightTypeModels, UnknownTypeIsRefused) {
  const auto raw = block_friendly_model();
  try {
    LlamaModel model(raw.config, raw.weights, torch::kFloat32, "tiny.bin", "q3_k");
    FAIL() << "no error";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("q3_k"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("tiny.bin"), std::string::npos) << e.what();
  }
}

// Perplexity of the reference story text (../shared/models/README.md) under stories260K.
double perplexity(const LoadedModel& loaded) {
  const std::string text =
      "Once upon a time, there was a little girl named Lily. She loved to play outside in the "
      "park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.";
  const auto ids = loaded.tokenizer->encode(text, /*add_bos=*/true);
  auto input = at::tensor(std::vector<int64_t>(ids.begin(), ids.end()), at::kLong).unsqueeze(0);
  c10::InferenceMode guard;
  const auto& model = *loaded.model;
  const auto n = input.size(1);
  auto logits = model.forward(model.embed(input.narrow(1, 0, n - 1)), {}).logits[0];
  const double nll = at::cross_entropy_loss(logits, input[0].narrow(0, 1, n - 1)).item<double>();
  return std::exp(nll);
}

TEST(WeightTypeModels, Stories260KPerplexityMovesLessThanOnePercentAtQ8_0) {
  PPLUG_REQUIRE_SHARED(path, "stories260K/stories260K.bin");
  const double f32 = perplexity(load_model(path));
  ModelLoadOptions options;
  for (const auto& [type, bound] : {std::pair{"q8_0", 0.01}, std::pair{"f16", 0.001}}) {
    options.weight_type = type;
    const auto loaded = load_model(path, options);
    const double ppl = perplexity(loaded);
    std::cout << "stories260K perplexity f32 " << f32 << ", " << type << " " << ppl << "\n";
    EXPECT_LT(std::abs(ppl / f32 - 1.0), bound) << type;
  }
}

}  // namespace
}  // namespace pplug
