// The decoder on tiny random models: caching, padding, batching, gradients, validation.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include "pplug/error.h"
#include "support/test_models.h"

namespace pplug {
namespace {

at::Tensor ids_tensor(std::vector<int64_t> ids) { return at::tensor(ids, at::kLong).unsqueeze(0); }

TEST(LlamaModel, NoWeightRequiresGrad) {
  const auto model = testing::tiny_model();
  for (const auto& p : model->parameters()) EXPECT_FALSE(p.requires_grad());
}

TEST(LlamaModel, KvCacheStepsMatchFullForward) {
  const auto model = testing::tiny_model();
  c10::InferenceMode guard;
  auto ids = ids_tensor({1, 5, 9, 200, 17, 33, 2});
  auto full = model->forward(model->embed(ids), {}).logits;  // (1, 7, V)
  KVCache cache(*model, 1, 16);
  auto first = model->forward(model->embed(ids.narrow(1, 0, 3)), {}, &cache).logits;
  EXPECT_TRUE(at::allclose(first, full.narrow(1, 0, 3), 1e-5, 1e-5));
  for (int64_t t = 3; t < 7; ++t) {
    auto step = model->forward(model->embed(ids.narrow(1, t, 1)), {}, &cache).logits;
    EXPECT_TRUE(at::allclose(step[0][0], full[0][t], 1e-5, 1e-5)) << "position " << t;
  }
  EXPECT_EQ(cache.length(), 7);
}

TEST(LlamaModel, LeftPaddingDoesNotChangeResults) {
  const auto model = testing::tiny_model();
  c10::InferenceMode guard;
  auto short_ids = ids_tensor({1, 7, 8});
  auto long_ids = ids_tensor({1, 4, 9, 10, 11});
  auto alone = model->forward(model->embed(short_ids), {}).logits[0];
  auto padded_ids = at::cat({at::zeros({1, 2}, at::kLong), short_ids}, 1);
  auto batch = at::cat({padded_ids, long_ids}, 0);  // (2, 5)
  auto mask = at::ones({2, 5}, at::kLong);
  mask[0][0] = 0;
  mask[0][1] = 0;
  auto out = model->forward(model->embed(batch), mask).logits;
  EXPECT_TRUE(at::allclose(out[0].narrow(0, 2, 3), alone, 1e-5, 1e-5));
  auto long_alone = model->forward(model->embed(long_ids), {}).logits[0];
  EXPECT_TRUE(at::allclose(out[1], long_alone, 1e-5, 1e-5));
  EXPECT_FALSE(at::isnan(out).any().item<bool>());
}

TEST(LlamaModel, ForwardIsDifferentiableWithRespectToInputEmbeddings) {
  const auto model = testing::tiny_model();
  auto embeds = model->embed(ids_tensor({1, 2, 3})).clone().requires_grad_(true);
  auto out = model->forward(embeds, {});
  out.logits.sum().backward();
  ASSERT_TRUE(embeds.grad().defined());
  EXPECT_GT(embeds.grad().abs().sum().item<double>(), 0.0);
  for (const auto& p : model->parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(LlamaModel, ReturnsFinalHiddenStates) {
  const auto model = testing::tiny_model();
  c10::InferenceMode guard;
  ForwardOptions options;
  options.return_hidden = true;
  options.skip_logits = true;
  auto out = model->forward(model->embed(ids_tensor({1, 2, 3, 4})), {}, nullptr, options);
  EXPECT_FALSE(out.logits.defined());
  EXPECT_EQ(out.hidden.sizes(), (std::vector<int64_t>{1, 4, 32}));
}

TEST(LlamaModel, BFloat16IsCloseToFloat32) {
  const auto f32 = testing::tiny_model(3);
  const auto bf16 = testing::tiny_model(3, 512, torch::kBFloat16);
  EXPECT_EQ(f32->fingerprint(), bf16->fingerprint());
  c10::InferenceMode guard;
  auto ids = ids_tensor({1, 2, 3, 4});
  auto a = f32->forward(f32->embed(ids), {}).logits;
  auto b = bf16->forward(bf16->embed(ids), {}).logits;
  EXPECT_LT((a - b).abs().max().item<double>(), 0.05);
}

TEST(LlamaModel, DifferentWeightsHaveDifferentFingerprints) {
  EXPECT_NE(testing::tiny_model(1)->fingerprint(), testing::tiny_model(2)->fingerprint());
}

TEST(LlamaModel, RejectsBadInputs) {
  const auto model = testing::tiny_model();
  c10::InferenceMode guard;
  EXPECT_THROW(model->embed(ids_tensor({1, 512})), InvalidArgument);
  EXPECT_THROW(model->embed(ids_tensor({-1})), InvalidArgument);
  EXPECT_THROW(model->forward(at::zeros({1, 3, 31}), {}), InvalidArgument);
  EXPECT_THROW(model->forward(at::zeros({1, 3, 32}), at::ones({1, 4}, at::kLong)), InvalidArgument);
  KVCache cache(*model, 1, 4);
  EXPECT_THROW(model->forward(at::zeros({1, 5, 32}), {}, &cache), InvalidArgument);
  EXPECT_THROW(KVCache(*model, 1, 1000), InvalidArgument);
}

TEST(LlamaModel, MissingAndMisshapenWeightsNameTheTensor) {
  auto raw = random_model(testing::tiny_config(), 1);
  auto missing = raw.weights;
  missing.erase(missing.begin() + 3);
  try {
    LlamaModel(raw.config, missing, torch::kFloat32, "some/model");
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("some/model: missing tensor"), std::string::npos);
  }
  auto wrong = raw.weights;
  wrong[1].second = at::zeros({7});
  try {
    LlamaModel(raw.config, wrong, torch::kFloat32, "some/model");
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("has shape [7], expected [32]"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace pplug
