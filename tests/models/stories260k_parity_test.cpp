// Parity with llama2.c's own C implementation on the real stories260K weights
// (reference values from ../shared/models/README.md).
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include "pplug/generation.h"
#include "pplug/model_io.h"
#include "support/test_models.h"

namespace pplug {
namespace {

const std::vector<int> kReferenceIds = {1,   403, 407, 261, 378, 432, 383, 286, 261,
                                        376, 298, 315, 421, 395, 317, 426, 338, 401,
                                        396, 267, 337, 410, 408, 419, 292};

struct ReferenceRow {
  int input, argmax;
  double max, sum, l0, l1, l2;
};
const ReferenceRow kReferenceLogits[5] = {
    {1, 403, 17.023516, -1070.171674, -6.222911, 8.404342, -6.223737},
    {403, 407, 18.459986, -2162.157880, -9.589458, 3.841276, -9.590532},
    {407, 261, 17.136963, -2808.686215, -12.141099, 1.776247, -12.142951},
    {261, 378, 18.874399, -1423.074526, -6.714241, -6.053024, -6.715025},
    {378, 432, 17.799398, -2256.851513, -10.136575, -5.329466, -10.138081},
};

void expect_reference_logits(const LlamaModel& model, double tol, double sum_tol) {
  c10::InferenceMode guard;
  auto ids = at::tensor(std::vector<int64_t>{1, 403, 407, 261, 378}, at::kLong).unsqueeze(0);
  auto logits = model.forward(model.embed(ids), {}).logits[0];  // (5, 512)
  double max_abs_diff = 0;
  for (int pos = 0; pos < 5; ++pos) {
    const auto& ref = kReferenceLogits[pos];
    auto row = logits[pos];
    EXPECT_EQ(row.argmax().item<int64_t>(), ref.argmax) << "position " << pos;
    const double diffs[] = {row.max().item<double>() - ref.max, row[0].item<double>() - ref.l0,
                            row[1].item<double>() - ref.l1, row[2].item<double>() - ref.l2};
    for (double d : diffs) max_abs_diff = std::max(max_abs_diff, std::abs(d));
    EXPECT_NEAR(row.to(at::kDouble).sum().item<double>(), ref.sum, sum_tol) << "position " << pos;
  }
  std::cout << "max_abs_diff vs llama2.c reference logits: " << max_abs_diff << "\n";
  EXPECT_LT(max_abs_diff, tol);
}

TEST(Stories260K, ReproducesReferenceLogits) {
  PPLUG_REQUIRE_SHARED(path, "stories260K/stories260K.bin");
  const auto loaded = load_model(path);
  // The sum adds 512 float32 logits of ~1e-5 error each: 1e-2 is a 4e-6 relative tolerance.
  expect_reference_logits(*loaded.model, 1e-4, 1e-2);
}

TEST(Stories260K, GreedyReproducesReferenceIds) {
  PPLUG_REQUIRE_SHARED(path, "stories260K/stories260K.bin");
  const auto loaded = load_model(path);
  Generator generator(loaded.model, loaded.tokenizer);
  GenerationOptions options;
  options.max_new_tokens = static_cast<int>(kReferenceIds.size()) - 5;
  const auto result = generator.generate("Once upon a time", options);
  std::vector<int> all = result.prompt_ids;
  all.insert(all.end(), result.generated_ids.begin(), result.generated_ids.end());
  EXPECT_EQ(all, kReferenceIds);
  EXPECT_EQ(result.text.rfind(", there was a little girl named Lily.", 0), 0u) << result.text;
}

TEST(Stories260K, HfConversionRoundTripGivesIdenticalLogits) {
  PPLUG_REQUIRE_SHARED(path, "stories260K/stories260K.bin");
  PPLUG_REQUIRE_SHARED(tok, "stories260K/tok512.model");
  const auto raw = read_llama2c(path);
  const std::string dir = testing::temp_dir("hf_roundtrip");
  save_hf_model(raw, dir, tok);
  const auto from_bin = load_model(path);
  const auto from_hf = load_model(dir);
  c10::InferenceMode guard;
  auto ids = at::tensor(std::vector<int64_t>{1, 403, 407, 261, 378, 432}, at::kLong).unsqueeze(0);
  auto a = from_bin.model->forward(from_bin.model->embed(ids), {}).logits;
  auto b = from_hf.model->forward(from_hf.model->embed(ids), {}).logits;
  EXPECT_TRUE(at::equal(a, b)) << "max diff " << (a - b).abs().max().item<double>();
  EXPECT_EQ(from_bin.model->fingerprint(), from_hf.model->fingerprint());
  // The llama2.c writer is the exact inverse of the reader (RoPE layout permuted back).
  const std::string bin2 = dir + "/again.bin";
  save_llama2c(raw, bin2);
  const auto raw2 = read_llama2c(bin2);
  ASSERT_EQ(raw.weights.size(), raw2.weights.size());
  for (size_t i = 0; i < raw.weights.size(); ++i) {
    EXPECT_TRUE(at::equal(raw.weights[i].second, raw2.weights[i].second)) << raw.weights[i].first;
  }
}

TEST(Stories260K, Bf16StaysCloseToFloat32) {
  PPLUG_REQUIRE_SHARED(path, "stories260K/stories260K.bin");
  ModelLoadOptions options;
  options.dtype = torch::kBFloat16;
  const auto loaded = load_model(path, options);
  EXPECT_EQ(loaded.model->dtype(), torch::kBFloat16);
  c10::InferenceMode guard;
  auto ids = at::tensor(std::vector<int64_t>{1, 403, 407, 261, 378}, at::kLong).unsqueeze(0);
  auto logits = loaded.model->forward(loaded.model->embed(ids), {}).logits[0];
  for (int pos = 0; pos < 5; ++pos) {
    EXPECT_EQ(logits[pos].argmax().item<int64_t>(), kReferenceLogits[pos].argmax);
  }
}

}  // namespace
}  // namespace pplug
