// T5Model against a literal re-implementation of HF's modeling_t5.py (t5_reference.h), for the
// original T5 (ReLU, tied head with the d_model^-0.5 rescale) and v1.1/FlanT5 (gated-GELU,
// untied lm_head); relative buckets by hand; incremental == full decoding; batched ==
// unbatched; gradients through the frozen model; greedy generation.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "models/t5_reference.h"
#include "pplug/error.h"
#include "pplug/t5_generation.h"
#include "pplug/t5_io.h"
#include "pplug/t5_model.h"

namespace pplug {
namespace {

T5Config tiny_t5(bool flan) {
  T5Config c;
  c.d_model = 32;
  c.d_kv = 12;  // heads x d_kv = 48 != d_model, as in t5-3b/11b: q/k/v widths are inner_dim
  c.d_ff = 48;
  c.num_layers = 2;
  c.num_decoder_layers = flan ? 3 : 2;
  c.num_heads = 4;
  c.vocab_size = 100;
  c.relative_attention_num_buckets = 8;
  c.relative_attention_max_distance = 20;  // small, so short test sequences reach the log buckets
  c.feed_forward_proj = flan ? "gated-gelu" : "relu";
  c.tie_word_embeddings = !flan;
  c.eos_token_id = 1;
  return c;
}

struct Fixture {
  RawT5Model raw;
  T5Model model;
  t5_reference::Reference ref;
  explicit Fixture(bool flan, uint64_t seed = 7)
      : raw(random_t5_model(tiny_t5(flan), seed)),
        model(raw.config, raw.weights),
        ref(raw.config, raw.weights) {}
};

double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}
double max_abs(const at::Tensor& a) { return a.to(at::kDouble).abs().max().item<double>(); }

at::Tensor ids_tensor(const std::vector<std::vector<int64_t>>& rows, int64_t width, int64_t pad) {
  auto t = at::full({static_cast<int64_t>(rows.size()), width}, pad, at::kLong);
  for (size_t b = 0; b < rows.size(); ++b) {
    for (size_t i = 0; i < rows[b].size(); ++i) t[b][i] = rows[b][i];
  }
  return t;
}

TEST(T5Buckets, HandComputedFromHfFormula) {
  // HF: bidirectional halves the buckets (keys after the query use the upper half), max_exact
  // = buckets / 2 exact distances, then max_exact + floor(log(dist / max_exact) /
  // log(max_distance / max_exact) * (buckets - max_exact)), capped at buckets - 1.
  struct Case {
    int64_t rel;
    bool bidirectional;
    int64_t buckets, max_distance, expected;
  };
  const Case cases[] = {
      {0, true, 32, 128, 0},      {-3, true, 32, 128, 3},
      {3, true, 32, 128, 19},     {-8, true, 32, 128, 8},    // log(1) = 0: the first log bucket
      {8, true, 32, 128, 24},     {-20, true, 32, 128, 10},  // 8 + floor(log(2.5)/log(16)*8 = 2.64)
      {20, true, 32, 128, 26},    {-127, true, 32, 128, 15},
      {-500, true, 32, 128, 15},                           // capped
      {500, true, 32, 128, 31},   {5, false, 32, 128, 0},  // causal: later keys all bucket 0
      {-5, false, 32, 128, 5},    {-16, false, 32, 128, 16},
      {-40, false, 32, 128, 23},  // 16 + floor(log(2.5)/log(8)*16 = 7.05)
      {-200, false, 32, 128, 31}, {-1, true, 8, 20, 1},
      {1, true, 8, 20, 5},        {-5, true, 8, 20, 2},  // 2 + floor(log(2.5)/log(10)*2 = 0.80)
      {-9, true, 8, 20, 3},       {9, true, 8, 20, 7},
      {-50, true, 8, 20, 3},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(t5_relative_position_bucket(c.rel, c.bidirectional, c.buckets, c.max_distance),
              c.expected)
        << "rel " << c.rel << " bidirectional " << c.bidirectional << " buckets " << c.buckets
        << " max_distance " << c.max_distance;
  }
}

TEST(T5Buckets, AgreeWithHfTensorFormulaOverARange) {
  for (bool bidirectional : {true, false}) {
    for (auto [buckets, max_distance] :
         {std::pair<int64_t, int64_t>{32, 128}, {8, 20}, {64, 300}}) {
      auto rel = at::arange(-700, 700, at::kLong);
      auto expected =
          t5_reference::relative_position_bucket(rel, bidirectional, buckets, max_distance);
      for (int64_t i = 0; i < rel.numel(); ++i) {
        const int64_t r = rel[i].item<int64_t>();
        ASSERT_EQ(t5_relative_position_bucket(r, bidirectional, buckets, max_distance),
                  expected[i].item<int64_t>())
            << "rel " << r << " bidirectional " << bidirectional << " buckets " << buckets;
      }
    }
  }
}

class T5Variants : public ::testing::TestWithParam<bool> {};

TEST_P(T5Variants, EncoderAndDecoderMatchReference) {
  Fixture f(GetParam());
  // Two rows, the second right-padded: real positions reach distances past max_exact.
  const auto ids =
      ids_tensor({{5, 17, 42, 9, 3, 77, 12, 60, 31, 2, 8, 1}, {11, 22, 33, 44, 55, 1}}, 12, 0);
  auto mask = (ids != 0).to(at::kLong);
  mask[0].fill_(1);
  const auto states = f.model.encode(f.model.embed(ids), mask);
  const auto ref_states = f.ref.encode(f.ref.embed(ids), mask);
  for (int64_t b = 0; b < 2; ++b) {
    const int64_t n = mask[b].sum().item<int64_t>();
    const double diff = max_abs_diff(states[b].narrow(0, 0, n), ref_states[b].narrow(0, 0, n));
    EXPECT_LT(diff, 1e-4 * std::max(1.0, max_abs(ref_states))) << "encoder row " << b;
  }
  const auto dec_ids =
      ids_tensor({{0, 7, 19, 4, 88, 23, 5, 14, 6, 70}, {0, 3, 9, 27, 81, 2, 2, 5, 9, 10}}, 10, 0);
  const auto logits = f.model.decode(f.model.embed(dec_ids), {}, states, mask).logits;
  const auto ref_logits = f.ref.decode(f.ref.embed(dec_ids), ref_states, mask);
  const double diff = max_abs_diff(logits, ref_logits);
  std::printf("max_abs_diff logits %.3g (max |logit| %.3g)\n", diff, max_abs(ref_logits));
  EXPECT_LT(diff, 1e-4 * std::max(1.0, max_abs(ref_logits)));
}

TEST_P(T5Variants, IncrementalDecodingEqualsFullForward) {
  Fixture f(GetParam());
  const auto ids = ids_tensor({{5, 17, 42, 9, 3, 77, 1}, {8, 8, 30, 1}}, 7, 0);
  const auto mask = (ids != 0).to(at::kLong);
  const auto states = f.model.encode(f.model.embed(ids), mask);
  const auto dec = ids_tensor({{0, 7, 19, 4, 88, 23, 5, 14}, {0, 3, 9, 27, 81, 2, 2, 5}}, 8, 0);
  const auto full = f.model.decode(f.model.embed(dec), {}, states, mask).logits;
  T5DecoderCache cache(f.model, states, mask, 8);
  // Three tokens at once, then one at a time: both paths of decode_step.
  auto first = f.model.decode_step(f.model.embed(dec.narrow(1, 0, 3)), cache).logits;
  EXPECT_LT(max_abs_diff(first, full.narrow(1, 0, 3)), 1e-4 * max_abs(full));
  for (int64_t t = 3; t < 8; ++t) {
    auto step = f.model.decode_step(f.model.embed(dec.narrow(1, t, 1)), cache).logits;
    EXPECT_LT(max_abs_diff(step, full.narrow(1, t, 1)), 1e-4 * max_abs(full)) << "step " << t;
  }
  EXPECT_EQ(cache.length(), 8);
  EXPECT_THROW(f.model.decode_step(f.model.embed(dec.narrow(1, 0, 1)), cache), InvalidArgument);
}

TEST_P(T5Variants, BatchedEqualsUnbatchedWithPaddingOnEitherSide) {
  Fixture f(GetParam());
  const std::vector<int64_t> a{5, 17, 42, 9, 3, 77, 12, 60, 1}, b{11, 22, 1};
  const std::vector<int64_t> dec{0, 7, 19, 4};
  auto run = [&](const at::Tensor& ids, const at::Tensor& mask) {
    const auto states = f.model.encode(f.model.embed(ids), mask);
    const auto d = at::tensor(dec, at::kLong).unsqueeze(0).expand({ids.size(0), 4}).contiguous();
    return f.model.decode(f.model.embed(d), {}, states, mask).logits;
  };
  const auto alone_a = run(at::tensor(a, at::kLong).unsqueeze(0), {});
  const auto alone_b = run(at::tensor(b, at::kLong).unsqueeze(0), {});
  // Row b right-padded, then left-padded: relative positions make both the same.
  auto right = ids_tensor({a, b}, 9, 0);
  auto right_mask = (right != 0).to(at::kLong);
  right_mask[0].fill_(1);
  const auto batched = run(right, right_mask);
  EXPECT_LT(max_abs_diff(batched[0], alone_a[0]), 1e-4 * max_abs(alone_a));
  EXPECT_LT(max_abs_diff(batched[1], alone_b[0]), 1e-4 * max_abs(alone_b));
  auto left = at::zeros({2, 9}, at::kLong);
  left[0].copy_(at::tensor(a, at::kLong));
  left[1].narrow(0, 6, 3).copy_(at::tensor(b, at::kLong));
  auto left_mask = at::zeros({2, 9}, at::kLong);
  left_mask[0].fill_(1);
  left_mask[1].narrow(0, 6, 3).fill_(1);
  EXPECT_LT(max_abs_diff(run(left, left_mask)[1], alone_b[0]), 1e-4 * max_abs(alone_b));
}

TEST_P(T5Variants, GradientReachesEncoderEmbeddingsAndMatchesFiniteDifference) {
  Fixture f(GetParam());
  const auto ids = at::tensor(std::vector<int64_t>{5, 17, 42, 9, 1}, at::kLong).unsqueeze(0);
  const auto targets = at::tensor(std::vector<int64_t>{7, 19, 4, 1}, at::kLong).unsqueeze(0);
  const auto dec_in = at::tensor(std::vector<int64_t>{0, 7, 19, 4}, at::kLong).unsqueeze(0);
  auto loss_of = [&](const at::Tensor& embeds) {
    const auto states = f.model.encode(embeds, {});
    const auto logits = f.model.decode(f.model.embed(dec_in), {}, states, {}).logits;
    return at::cross_entropy_loss(logits.view({-1, logits.size(-1)}), targets.view({-1}));
  };
  auto embeds = f.model.embed(ids).detach().clone().set_requires_grad(true);
  auto loss = loss_of(embeds);
  loss.backward();
  ASSERT_TRUE(embeds.grad().defined());
  const auto grad = embeds.grad();
  EXPECT_GT(grad.abs().sum().item<double>(), 0.0);
  // Central difference along the gradient direction of one token's row.
  const auto direction = at::zeros_like(embeds);
  direction[0][2].copy_(grad[0][2] / grad[0][2].norm());
  const double eps = 1e-2;
  at::NoGradGuard no_grad;
  const double numeric = (loss_of(embeds.detach() + eps * direction).item<double>() -
                          loss_of(embeds.detach() - eps * direction).item<double>()) /
                         (2 * eps);
  const double analytic = (grad * direction).sum().item<double>();
  EXPECT_NEAR(numeric, analytic, 0.02 * std::abs(analytic) + 1e-4);
}

TEST_P(T5Variants, GreedyFromIdsEqualsFromEmbeddingsAndReferenceArgmax) {
  Fixture f(GetParam());
  const std::vector<std::vector<int64_t>> inputs{{5, 17, 42, 9, 3, 1}, {11, 22, 1}};
  T5GenerationOptions options;
  options.max_new_tokens = 6;
  const auto from_ids = t5_generate_greedy(f.model, inputs, options);
  ASSERT_EQ(from_ids.size(), 2u);
  for (size_t b = 0; b < inputs.size(); ++b) {
    // Soft-token entry point: the same rows given as embeddings, one request alone.
    const auto row = at::tensor(inputs[b], at::kLong).unsqueeze(0);
    const auto from_embeds = t5_generate_greedy(f.model, f.model.embed(row), {}, options);
    EXPECT_EQ(from_embeds[0], from_ids[b]) << "row " << b;
    // The reference's argmax, re-running its full decoder every step.
    const auto states = f.ref.encode(f.ref.embed(row), at::ones_like(row));
    std::vector<int64_t> dec{f.raw.config.decoder_start_token_id}, expected;
    for (int64_t step = 0; step < options.max_new_tokens; ++step) {
      const auto d = at::tensor(dec, at::kLong).unsqueeze(0);
      const auto logits = f.ref.decode(f.ref.embed(d), states, at::ones_like(row));
      const int64_t next = logits[0][-1].argmax().item<int64_t>();
      expected.push_back(next);
      if (next == f.raw.config.eos_token_id) break;
      dec.push_back(next);
    }
    EXPECT_EQ(from_ids[b], expected) << "row " << b;
  }
}

TEST_P(T5Variants, Bfloat16StaysCloseToFloat32) {
  Fixture f(GetParam());
  const T5Model bf16(f.raw.config, f.raw.weights, torch::kBFloat16);
  const auto ids = at::tensor(std::vector<int64_t>{5, 17, 42, 9, 3, 1}, at::kLong).unsqueeze(0);
  const auto dec = at::tensor(std::vector<int64_t>{0, 7, 19}, at::kLong).unsqueeze(0);
  const auto s32 = f.model.encode(f.model.embed(ids));
  const auto s16 = bf16.encode(bf16.embed(ids));
  EXPECT_EQ(s16.scalar_type(), at::kBFloat16);
  const auto l32 = f.model.decode(f.model.embed(dec), {}, s32, {}).logits;
  const auto l16 = bf16.decode(bf16.embed(dec), {}, s16, {}).logits;
  EXPECT_LT(max_abs_diff(l32, l16), 0.05 * max_abs(l32));
  EXPECT_EQ(bf16.fingerprint(), f.model.fingerprint());
}

INSTANTIATE_TEST_SUITE_P(T5, T5Variants, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "FlanGatedGeluUntied" : "OriginalReluTied";
                         });

TEST(T5Model, BadInputsAreInvalidArguments) {
  Fixture f(true);
  const auto embeds = f.model.embed(at::ones({1, 4}, at::kLong));
  EXPECT_THROW(f.model.encode(at::zeros({1, 4, 31})), InvalidArgument);
  EXPECT_THROW(f.model.encode(embeds, at::ones({1, 5}, at::kLong)), InvalidArgument);
  EXPECT_THROW(f.model.embed(at::full({1, 1}, 100, at::kLong)), InvalidArgument);
  EXPECT_THROW(f.model.decode(embeds, {}, at::zeros({2, 3, 32}), {}), InvalidArgument);
  EXPECT_THROW(T5DecoderCache(f.model, at::zeros({1, 0, 32}), {}, 4), InvalidArgument);
  T5GenerationOptions options;
  options.max_new_tokens = 0;
  EXPECT_THROW(t5_generate_greedy(f.model, {{1, 2}}, options), InvalidArgument);
}

}  // namespace
}  // namespace pplug
