// The decode kernels against ATen on odd shapes, and the decode loop's memory behaviour.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "kernels/decode_attention.h"
#include "kernels/linear_kernels.h"
#include "memory/weight_arena.h"
#include "pplug/error.h"
#include "support/kernel_levels.h"
#include "support/test_models.h"

namespace pplug {
namespace {

using kernels::Isa;

using testing::runnable_isas;

struct Shape {
  int64_t m, n, k;
};

// Odd sizes on purpose: tails in K (not a multiple of 16 or 32), in N (not a multiple of the
// 4- and 8-row tiles) and in M (not a multiple of 4).
const Shape kShapes[] = {{1, 37, 53}, {3, 37, 53}, {5, 19, 130}, {1, 1, 1},
                         {2, 33, 16}, {4, 9, 32},  {7, 64, 100}, {1, 77, 257}};

TEST(LlamaKernels, LinearMatchesAtLinearOnOddShapes) {
  for (const auto dtype : {at::kFloat, at::kBFloat16}) {
    for (const Isa isa : runnable_isas()) {
      for (const auto& s : kShapes) {
        auto x = at::randn({s.m, s.k});
        auto w = at::randn({s.n, s.k}).to(dtype);
        // Reference in double on the exact (already rounded) weights.
        auto expected = at::linear(x.to(at::kDouble), w.to(at::kDouble));
        auto got = kernels::linear(x, w, isa);
        ASSERT_EQ(got.sizes(), expected.sizes());
        // float32 accumulation: error grows with K and the magnitude of the terms.
        const double bound = 1e-5 * static_cast<double>(s.k) + 1e-5;
        const auto err = (got.to(at::kDouble) - expected).abs().max().item<double>();
        EXPECT_LT(err, bound) << kernels::isa_name(isa) << " " << c10::toString(dtype) << " " << s.m
                              << "x" << s.n << "x" << s.k;
      }
    }
  }
}

TEST(LlamaKernels, LinearAccumulatesIntoStridedOutput) {
  for (const Isa isa : runnable_isas()) {
    auto x = at::randn({3, 40});  // rows read with a stride of 45
    auto padded_x = at::zeros({3, 45});
    padded_x.narrow(1, 0, 40).copy_(x);
    auto w = at::randn({21, 40}).to(at::kBFloat16);
    auto y = at::randn({3, 25});  // writes the first 21 columns
    auto before = y.clone();
    kernels::linear(padded_x.data_ptr<float>(), 45, 3, kernels::weight_view(w), y.data_ptr<float>(),
                    25, /*accumulate=*/true, isa);
    auto expected = before.narrow(1, 0, 21) + at::matmul(x, w.to(at::kFloat).t());
    EXPECT_TRUE(at::allclose(y.narrow(1, 0, 21), expected, 1e-4, 1e-4)) << kernels::isa_name(isa);
    EXPECT_TRUE(at::equal(y.narrow(1, 21, 4), before.narrow(1, 21, 4)));
  }
}

// softmax(q k^T * scale + mask) v with ATen, per row and head, keys (B, KV, cap, hd).
at::Tensor reference_attention(const at::Tensor& q, const at::Tensor& keys,
                               const at::Tensor& values, const at::Tensor& mask, int64_t length,
                               float scale) {
  const int64_t H = q.size(1), KV = keys.size(1), group = H / KV;
  auto k = keys.narrow(2, 0, length).to(at::kFloat).repeat_interleave(group, 1);  // (B, H, S, hd)
  auto v = values.narrow(2, 0, length).to(at::kFloat).repeat_interleave(group, 1);
  auto scores = at::matmul(q.unsqueeze(2), k.transpose(-1, -2)).squeeze(2) * scale;  // (B, H, S)
  auto hidden = mask.narrow(1, 0, length).eq(0).unsqueeze(1);                        // (B, 1, S)
  scores = scores.masked_fill(hidden, -1e30);
  return at::matmul(at::softmax(scores, -1).unsqueeze(2), v).squeeze(2);  // (B, H, hd)
}

TEST(LlamaKernels, DecodeAttentionMatchesMatmulSoftmax) {
  const int64_t B = 3, H = 6, KV = 2, cap = 29, length = 23;
  // Head sizes: a tail block, the usual 64, and more than one 128-dimension chunk.
  for (const int64_t hd : {37, 64, 150}) {
    for (const auto dtype : {at::kFloat, at::kBFloat16}) {
      for (const Isa isa : runnable_isas()) {
        auto q = at::randn({B, H, hd});
        auto keys = at::randn({B, KV, cap, hd}).to(dtype);
        auto values = at::randn({B, KV, cap, hd}).to(dtype);
        auto mask = at::ones({B, cap}, at::kLong);
        mask[1].narrow(0, 0, 5).fill_(0);  // left padding
        mask[2].fill_(0);                  // no visible key: uniform weights
        auto scores = at::empty({B * H * length});
        auto out = at::empty({B, H, hd});
        const kernels::CacheView view{
            keys.data_ptr(), values.data_ptr(), dtype == at::kBFloat16, KV, cap, hd};
        const float scale = 0.25f;
        kernels::decode_attention(q.data_ptr<float>(), H * hd, B, H, view, length,
                                  mask.data_ptr<int64_t>(), cap, scale, scores.data_ptr<float>(),
                                  out.data_ptr<float>(), H * hd, isa);
        auto expected = reference_attention(q, keys, values, mask, length, scale);
        EXPECT_TRUE(at::allclose(out, expected, 1e-4, 1e-5))
            << kernels::isa_name(isa) << " " << c10::toString(dtype) << " hd " << hd << " max diff "
            << (out - expected).abs().max().item<double>();
      }
    }
  }
}

TEST(LlamaKernels, BatchedPaddedDecodeMatchesFullForward) {
  const auto model = testing::tiny_model(4);
  c10::InferenceMode guard;
  // Row 0 has two padding slots on the left; both rows then decode four tokens one by one.
  auto ids =
      at::tensor(std::vector<int64_t>{0, 0, 5, 9, 11, 40, 41, 42, 3, 8, 13, 21, 34, 55}, at::kLong)
          .view({2, 7});
  auto mask = at::ones({2, 7}, at::kLong);
  mask[0][0] = 0;
  mask[0][1] = 0;
  auto full = model->forward(model->embed(ids), mask).logits;  // (2, 7, V)
  KVCache cache(*model, 2, 16);
  model->forward(model->embed(ids.narrow(1, 0, 3)), mask.narrow(1, 0, 3), &cache);
  at::Tensor previous;
  for (int64_t t = 3; t < 7; ++t) {
    auto step = model->forward(model->embed(ids.narrow(1, t, 1)), mask.narrow(1, t, 1), &cache)
                    .logits;  // (2, 1, V)
    EXPECT_TRUE(at::allclose(step.squeeze(1), full.select(1, t), 1e-5, 1e-5)) << "position " << t;
    // Returned logits own their memory: the next step must not overwrite them.
    if (previous.defined()) {
      EXPECT_TRUE(at::allclose(previous.squeeze(1), full.select(1, t - 1), 1e-5, 1e-5));
    }
    previous = step;
  }
}

TEST(LlamaKernels, BFloat16DecodeStaysCloseToFullForward) {
  const auto model = testing::tiny_model(5, 512, torch::kBFloat16);
  c10::InferenceMode guard;
  auto ids = at::tensor(std::vector<int64_t>{1, 7, 99, 300, 4, 18}, at::kLong).unsqueeze(0);
  auto full = model->forward(model->embed(ids), {}).logits;
  KVCache cache(*model, 1, 8);
  model->forward(model->embed(ids.narrow(1, 0, 2)), {}, &cache);
  for (int64_t t = 2; t < 6; ++t) {
    auto step = model->forward(model->embed(ids.narrow(1, t, 1)), {}, &cache).logits;
    // The full forward runs in bf16, the decode step keeps float32 activations.
    EXPECT_LT((step[0][0] - full[0][t]).abs().max().item<double>(), 0.05) << "position " << t;
  }
}

TEST(LlamaKernels, ReorderedCacheDecodesLikeFreshCaches) {
  const auto model = testing::tiny_model(7);
  c10::InferenceMode guard;
  auto prompts =
      at::tensor(std::vector<int64_t>{3, 14, 15, 92, 6, 53, 58, 97}, at::kLong).view({2, 4});
  KVCache cache(*model, 2, 12);
  model->forward(model->embed(prompts), {}, &cache);
  cache.reorder(at::tensor(std::vector<int64_t>{1, 1, 0}, at::kLong));
  EXPECT_EQ(cache.batch(), 3);
  auto next = at::tensor(std::vector<int64_t>{7, 8, 9}, at::kLong).view({3, 1});
  auto step = model->forward(model->embed(next), {}, &cache).logits;  // (3, 1, V)
  const int64_t origin[3] = {1, 1, 0};
  for (int64_t r = 0; r < 3; ++r) {
    KVCache alone(*model, 1, 12);
    model->forward(model->embed(prompts.narrow(0, origin[r], 1)), {}, &alone);
    auto expected = model->forward(model->embed(next.narrow(0, r, 1)), {}, &alone).logits;
    EXPECT_TRUE(at::allclose(step[r], expected[0], 1e-5, 1e-5)) << "row " << r;
  }
  EXPECT_THROW(cache.reorder(at::tensor(std::vector<int64_t>{3}, at::kLong)), InvalidArgument);
}

TEST(LlamaKernels, WeightArenaKeepsDataThroughHugePagePromotion) {
  at::Tensor a, b;
  {
    memory::WeightArena arena(size_t{1} << 20);  // smaller than asked for below
    a = arena.empty({1000, 777}, at::kFloat).copy_(at::randn({1000, 777}));  // ~3 MB
    b = arena.empty({5, 3}, at::kBFloat16).fill_(2);                         // a second region
  }  // tensors outlive the arena object
  EXPECT_TRUE(memory::in_weight_arena(a));
  EXPECT_TRUE(memory::in_weight_arena(a.narrow(0, 10, 5)));
  EXPECT_FALSE(memory::in_weight_arena(at::zeros({3})));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.data_ptr()) % 64, 0u);
  const auto before = a.clone();
  memory::promote_to_huge_pages({a, b, at::zeros({2})}, /*wait=*/true);
  EXPECT_TRUE(at::equal(a, before));
  EXPECT_TRUE(at::equal(b, at::full({5, 3}, 2, at::kBFloat16)));
}

double resident_mb() {
  std::ifstream in("/proc/self/statm");
  long total = 0, resident = 0;
  in >> total >> resident;
  return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE)) / 1e6;
}

TEST(LlamaKernels, DecodeLoopMemoryDoesNotGrow) {
  // Vocabulary 16000: a leaked logits row per step would add 64 KB, 12.8 MB over 200 steps.
  auto config = testing::tiny_config(16000);
  config.max_position_embeddings = 256;
  const auto raw = random_model(config, 6);
  const auto model = std::make_shared<const LlamaModel>(raw.config, raw.weights);
  c10::InferenceMode guard;
  KVCache cache(*model, 1, 220);
  ForwardOptions options;
  options.last_logits_only = true;
  auto next = at::tensor(std::vector<int64_t>{1}, at::kLong).view({1, 1});
  auto logits = model->forward(model->embed(next), {}, &cache, options).logits;
  for (int i = 0; i < 10; ++i) {  // warm-up: work buffers and allocator caches settle
    logits = model->forward(model->embed(logits.argmax(-1)), {}, &cache, options).logits;
  }
  const double before = resident_mb();
  for (int i = 0; i < 200; ++i) {
    logits = model->forward(model->embed(logits.argmax(-1)), {}, &cache, options).logits;
  }
  const double growth = resident_mb() - before;
  EXPECT_EQ(cache.length(), 211);
  EXPECT_LT(growth, 4.0) << "resident memory grew by " << growth << " MB over 200 decode steps";
}

}  // namespace
}  // namespace pplug
