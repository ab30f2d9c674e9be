// The decoder's forward pass: (B, T, d) input embeddings -> logits and hidden states.
// Two paths: ATen ops for prompts, training and anything with a gradient (forward), and the
// one-token decode step on the hand-written kernels of src/kernels (decode_step).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <c10/util/SmallVector.h>

#include <algorithm>
#include <cmath>

#include "kernels/decode_attention.h"
#include "kernels/decode_ops.h"
#include "kernels/dense_linear.h"
#include "kernels/linear_kernels.h"
#include "models/llama/llama_matrices.h"
#include "pplug/error.h"
#include "pplug/llama_model.h"

namespace pplug {
namespace {

// Score added to attention logits of keys a query may not see. Finite (not -inf) so that a
// row with no visible key (a padding query) yields uniform weights instead of NaN.
constexpr double kMaskedScore = -1e30;

torch::Tensor rotate_half(const torch::Tensor& x) {
  const int64_t half = x.size(-1) / 2;
  return at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
}

// a . b for the attention products. libtorch's bfloat16 matmul is fast only where oneDNN has
// native bf16 instructions (AVX512_BF16); elsewhere it is ~60x slower than float32, so bf16
// operands are multiplied in float32 there and the result rounded back.
torch::Tensor attention_matmul(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.scalar_type() != at::kBFloat16 || kernels::best_isa() >= kernels::Isa::kAvx512Bf16) {
    return at::matmul(a, b);
  }
  return at::matmul(a.to(at::kFloat), b.to(at::kFloat)).to(at::kBFloat16);
}

}  // namespace

torch::Tensor LlamaModel::attention(const Layer& layer, int64_t index, const torch::Tensor& x,
                                    const torch::Tensor& cos, const torch::Tensor& sin,
                                    const torch::Tensor& mask_bias, KVCache* cache) const {
  const int64_t B = x.size(0), T = x.size(1);
  const int64_t H = config_.num_attention_heads, KV = config_.num_key_value_heads;
  const int64_t hd = config_.head_dim(), G = H / KV;
  auto h = rms_norm(x, layer.attn_norm);
  const int64_t d = config_.hidden_size;
  auto qkv = kernels::dense_linear(h, detail::packed_matrix(layer.w_qkv, matrix_type_, d));
  if (layer.qkv_bias.defined()) qkv = qkv + layer.qkv_bias;
  auto q = qkv.narrow(-1, 0, H * hd).view({B, T, H, hd});
  auto k = qkv.narrow(-1, H * hd, KV * hd).view({B, T, KV, hd});
  auto v = qkv.narrow(-1, (H + KV) * hd, KV * hd).view({B, T, KV, hd});
  if (layer.q_norm.defined()) {  // Qwen3: each head normalised before RoPE
    q = rms_norm(q, layer.q_norm);
    k = rms_norm(k, layer.k_norm);
  }
  q = q * cos + rotate_half(q) * sin;  // cos, sin: (B, T, 1, hd)
  k = k * cos + rotate_half(k) * sin;
  q = q.transpose(1, 2);  // (B, H, T, hd)
  k = k.transpose(1, 2);  // (B, KV, T, hd)
  v = v.transpose(1, 2);
  if (cache != nullptr) {
    const int64_t start = cache->length_;
    cache->keys_[index].narrow(2, start, T).copy_(k);
    cache->values_[index].narrow(2, start, T).copy_(v);
    k = cache->keys_[index].narrow(2, 0, start + T);  // (B, KV, S, hd)
    v = cache->values_[index].narrow(2, 0, start + T);
  }
  const int64_t S = k.size(2);
  // Query heads sharing a key/value head are stacked along the time axis, so grouped-query
  // attention needs no copy of the keys and values.
  auto qg = q.reshape({B, KV, G * T, hd});
  auto scores =
      attention_matmul(qg, k.transpose(-1, -2)) * (1.0 / std::sqrt(static_cast<double>(hd)));
  if (mask_bias.defined()) {
    scores = (scores.view({B, KV, G, T, S}) + mask_bias).view({B, KV, G * T, S});
  }
  auto probs = at::softmax(scores, -1);
  auto out = attention_matmul(probs, v);  // (B, KV, G T, hd)
  out = out.view({B, H, T, hd}).transpose(1, 2).reshape({B, T, H * hd});
  out = kernels::dense_linear(out, detail::packed_matrix(layer.w_o, matrix_type_, H * hd));
  return layer.o_bias.defined() ? out + layer.o_bias : out;
}

ForwardOutput LlamaModel::forward(const torch::Tensor& inputs_embeds,
                                  const torch::Tensor& attention_mask, KVCache* cache,
                                  const ForwardOptions& options) const {
  if (!inputs_embeds.defined() || inputs_embeds.dim() != 3 ||
      inputs_embeds.size(2) != config_.hidden_size) {
    throw InvalidArgument("LlamaModel::forward: inputs_embeds must have shape (B, T, " +
                          std::to_string(config_.hidden_size) + ")");
  }
  const int64_t B = inputs_embeds.size(0), T = inputs_embeds.size(1);
  if (T == 0) throw InvalidArgument("LlamaModel::forward: empty input (T = 0)");
  torch::Tensor mask =
      attention_mask.defined() ? attention_mask.to(at::kLong) : at::ones({B, T}, at::kLong);
  if (mask.dim() != 2 || mask.size(0) != B || mask.size(1) != T) {
    throw InvalidArgument("LlamaModel::forward: attention_mask must have shape (B, T) = (" +
                          std::to_string(B) + ", " + std::to_string(T) + ")");
  }
  const int64_t start = cache != nullptr ? cache->length_ : 0;
  const int64_t S = start + T;
  check_sliding_window(S);
  if (cache != nullptr) {
    if (cache->batch_ != B) {
      throw InvalidArgument("LlamaModel::forward: cache batch " + std::to_string(cache->batch_) +
                            " differs from input batch " + std::to_string(B));
    }
    if (S > cache->capacity_) {
      throw InvalidArgument("LlamaModel::forward: " + std::to_string(S) +
                            " positions exceed the cache capacity " +
                            std::to_string(cache->capacity_));
    }
  }

  // One new token per row with no gradient wanted: the kernel path (see decode_step).
  const bool wants_grad = at::GradMode::is_enabled() && inputs_embeds.requires_grad();
  if (cache != nullptr && T == 1 && !wants_grad) {
    return decode_step(inputs_embeds, mask, *cache, options);
  }

  // RoPE positions count real tokens only, so left padding does not shift them.
  auto positions = at::cumsum(mask, 1) - 1;  // (B, T)
  if (cache != nullptr) positions = positions + cache->next_position_.unsqueeze(1);
  positions = positions.clamp_min(0);
  if (positions.max().item<int64_t>() >= config_.max_position_embeddings) {
    throw InvalidArgument("LlamaModel::forward: sequence longer than max_position_embeddings " +
                          std::to_string(config_.max_position_embeddings));
  }
  torch::Tensor key_mask = mask;  // (B, S)
  if (cache != nullptr) {
    cache->mask_.narrow(1, start, T).copy_(mask);
    key_mask = cache->mask_.narrow(1, 0, S);
  }
  torch::Tensor mask_bias;  // (B, 1, 1, T, S) or undefined when nothing is masked
  const bool single_step_unpadded = T == 1 && key_mask.min().item<int64_t>() == 1;
  if (!single_step_unpadded) {
    auto key_index = at::arange(S, at::kLong).unsqueeze(0);             // (1, S)
    auto query_slot = (at::arange(T, at::kLong) + start).unsqueeze(1);  // (T, 1)
    auto allowed = (key_index <= query_slot).unsqueeze(0) & key_mask.unsqueeze(1).to(at::kBool);
    mask_bias = at::zeros({B, T, S}, at::TensorOptions().dtype(dtype_))
                    .masked_fill(allowed.logical_not(), kMaskedScore)
                    .view({B, 1, 1, T, S});
  }
  const int64_t hd = config_.head_dim();
  auto flat_positions = positions.reshape({-1});
  auto cos = rope_cos_.index_select(0, flat_positions).view({B, T, 1, hd});
  auto sin = rope_sin_.index_select(0, flat_positions).view({B, T, 1, hd});

  auto x = inputs_embeds.to(dtype_);
  if (config_.embedding_multiplier != 1.0) x = x * config_.embedding_multiplier;
  const int64_t hidden = config_.intermediate_size, d = config_.hidden_size;
  const auto activation = kernels::gate_activation(config_.hidden_act);
  for (size_t i = 0; i < layers_.size(); ++i) {
    const Layer& layer = layers_[i];
    x = x + attention(layer, static_cast<int64_t>(i), x, cos, sin, mask_bias, cache);
    auto gate_up = kernels::dense_linear(rms_norm(x, layer.ffn_norm),
                                         detail::packed_matrix(layer.w_gate_up, matrix_type_, d));
    const auto gate = gate_up.narrow(-1, 0, hidden);
    const auto gated = activation == kernels::GateActivation::kSilu       ? at::silu(gate)
                       : activation == kernels::GateActivation::kGeluTanh ? at::gelu(gate, "tanh")
                                                                          : at::gelu(gate);
    auto act = gated * gate_up.narrow(-1, hidden, hidden);
    x = x + kernels::dense_linear(act, detail::packed_matrix(layer.w_down, matrix_type_, hidden));
  }
  if (cache != nullptr) {
    cache->length_ = S;
    cache->next_position_ += mask.sum(1);
  }
  ForwardOutput out;
  auto normed = rms_norm(x, final_norm_);  // (B, T, d)
  if (!options.skip_logits) {
    auto h = options.last_logits_only ? normed.narrow(1, T - 1, 1) : normed;
    out.logits =
        kernels::dense_linear(h, detail::packed_matrix(lm_head_, matrix_type_, d)).to(at::kFloat);
  }
  if (options.return_hidden) out.hidden = normed;
  return out;
}

namespace {

// Views into the cache's float32 scratch buffer, one per intermediate of a decode step.
struct DecodeBuffers {
  float* x;       // (B, d) residual stream
  float* h;       // (B, d) normed input of a block
  float* qkv;     // (B, (H + 2 KV) hd)
  float* att;     // (B, H hd) attention output
  float* ffn;     // (B, 2 hidden): gate (then act(gate) * up) and up
  float* scores;  // (B, H, capacity)
};

}  // namespace

ForwardOutput LlamaModel::decode_step(const torch::Tensor& inputs_embeds, const torch::Tensor& mask,
                                      KVCache& cache, const ForwardOptions& options) const {
  const int64_t B = inputs_embeds.size(0), d = config_.hidden_size;
  const int64_t H = config_.num_attention_heads, KV = config_.num_key_value_heads;
  const int64_t hd = config_.head_dim(), hidden = config_.intermediate_size;
  const int64_t q_dim = H * hd, qkv_dim = (H + 2 * KV) * hd, cap = cache.capacity_;
  const int64_t start = cache.length_, S = start + 1;
  check_sliding_window(S);

  // Positions as in forward(): next real position, or the previous one for a padding token.
  const auto step_mask = mask.contiguous();  // (B, 1)
  const auto* real = step_mask.data_ptr<int64_t>();
  auto* next_position = cache.next_position_.data_ptr<int64_t>();
  auto* key_mask = cache.mask_.data_ptr<int64_t>();  // (B, capacity)
  c10::SmallVector<int64_t, 16> position(B);
  for (int64_t b = 0; b < B; ++b) {
    position[b] = std::max<int64_t>(0, next_position[b] + real[b] - 1);
    if (position[b] >= config_.max_position_embeddings) {
      throw InvalidArgument("LlamaModel::forward: sequence longer than max_position_embeddings " +
                            std::to_string(config_.max_position_embeddings));
    }
  }

  const int64_t need = B * (2 * d + qkv_dim + q_dim + 2 * hidden + H * cap);
  if (!cache.scratch_.defined() || cache.scratch_.numel() < need) {
    cache.scratch_ = at::empty({need}, at::kFloat);
  }
  auto* p = cache.scratch_.data_ptr<float>();
  auto carve = [&](int64_t row_size) {
    float* slice = p;
    p += B * row_size;
    return slice;
  };
  DecodeBuffers buf{};
  buf.x = carve(d);
  buf.h = carve(d);
  buf.qkv = carve(qkv_dim);
  buf.att = carve(q_dim);
  buf.ffn = carve(2 * hidden);
  buf.scores = carve(H * cap);

  const auto embeds =
      inputs_embeds.scalar_type() == at::kFloat || inputs_embeds.scalar_type() == at::kBFloat16
          ? inputs_embeds.contiguous()
          : inputs_embeds.to(at::kFloat).contiguous();
  kernels::load_row(embeds.data_ptr(), embeds.scalar_type() == at::kBFloat16, B * d, buf.x);
  if (config_.embedding_multiplier != 1.0) {
    const auto m = static_cast<float>(config_.embedding_multiplier);
    for (int64_t i = 0; i < B * d; ++i) buf.x[i] *= m;
  }
  const auto activation = kernels::gate_activation(config_.hidden_act);
  for (int64_t b = 0; b < B; ++b) key_mask[b * cap + start] = real[b];

  const bool cache_bf16 = dtype_ == torch::kBFloat16;
  const size_t elem = cache_bf16 ? 2 : 4;
  const auto scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd)));
  const float* cos_table = rope_cos_f32_.data_ptr<float>();
  const float* sin_table = rope_sin_f32_.data_ptr<float>();
  for (size_t i = 0; i < layers_.size(); ++i) {
    const Layer& layer = layers_[i];
    for (int64_t b = 0; b < B; ++b) {
      kernels::rms_norm_row(buf.x + b * d, layer.attn_norm_f32.data_ptr<float>(), d,
                            config_.rms_norm_eps, buf.h + b * d);
    }
    kernels::linear(buf.h, d, B, detail::packed_matrix(layer.w_qkv, matrix_type_, d).view(),
                    buf.qkv, qkv_dim, false);
    for (int64_t b = 0; b < B; ++b) {
      float* row = buf.qkv + b * qkv_dim;
      if (layer.qkv_bias.defined())
        kernels::add_row(layer.qkv_bias_f32.data_ptr<float>(), qkv_dim, row);
      if (layer.q_norm.defined()) {
        for (int64_t h = 0; h < H; ++h) {
          kernels::rms_norm_row(row + h * hd, layer.q_norm_f32.data_ptr<float>(), hd,
                                config_.rms_norm_eps, row + h * hd);
        }
        for (int64_t g = 0; g < KV; ++g) {
          float* head = row + q_dim + g * hd;
          kernels::rms_norm_row(head, layer.k_norm_f32.data_ptr<float>(), hd, config_.rms_norm_eps,
                                head);
        }
      }
    }

    auto* keys = static_cast<char*>(cache.keys_[i].data_ptr());
    auto* values = static_cast<char*>(cache.values_[i].data_ptr());
    for (int64_t b = 0; b < B; ++b) {
      float* row = buf.qkv + b * qkv_dim;
      const float* cos = cos_table + position[b] * hd;
      const float* sin = sin_table + position[b] * hd;
      kernels::rope_row(row, H + KV, hd, cos, sin);  // q and k heads are adjacent
      for (int64_t g = 0; g < KV; ++g) {
        const int64_t slot = ((b * KV + g) * cap + start) * hd;
        kernels::store_row(row + q_dim + g * hd, hd, keys + slot * elem, cache_bf16);
        kernels::store_row(row + q_dim + (KV + g) * hd, hd, values + slot * elem, cache_bf16);
      }
    }
    const kernels::CacheView view{keys, values, cache_bf16, KV, cap, hd};
    kernels::decode_attention(buf.qkv, qkv_dim, B, H, view, S, key_mask, cap, scale, buf.scores,
                              buf.att, q_dim);
    kernels::linear(buf.att, q_dim, B, detail::packed_matrix(layer.w_o, matrix_type_, q_dim).view(),
                    buf.x, d, true);
    if (layer.o_bias.defined()) {
      for (int64_t b = 0; b < B; ++b) {
        kernels::add_row(layer.o_bias_f32.data_ptr<float>(), d, buf.x + b * d);
      }
    }

    for (int64_t b = 0; b < B; ++b) {
      kernels::rms_norm_row(buf.x + b * d, layer.ffn_norm_f32.data_ptr<float>(), d,
                            config_.rms_norm_eps, buf.h + b * d);
    }
    // Gate row j and up row j land in the same task, so SwiGLU runs inside the parallel region.
    const auto gate_up = detail::packed_matrix(layer.w_gate_up, matrix_type_, d).view();
    at::parallel_for(0, hidden, kernels::linear_grain(B, d), [&](int64_t j0, int64_t j1) {
      kernels::linear_rows(buf.h, d, B, gate_up, j0, j1, buf.ffn, 2 * hidden, false);
      kernels::linear_rows(buf.h, d, B, gate_up, hidden + j0, hidden + j1, buf.ffn, 2 * hidden,
                           false);
      for (int64_t b = 0; b < B; ++b) {
        float* row = buf.ffn + b * 2 * hidden;
        kernels::gated_activation_mul(activation, row + j0, row + hidden + j0, j1 - j0, row + j0);
      }
    });
    kernels::linear(buf.ffn, 2 * hidden, B,
                    detail::packed_matrix(layer.w_down, matrix_type_, hidden).view(), buf.x, d,
                    true);
  }
  cache.length_ = S;
  for (int64_t b = 0; b < B; ++b) next_position[b] += real[b];

  for (int64_t b = 0; b < B; ++b) {
    kernels::rms_norm_row(buf.x + b * d, final_norm_f32_.data_ptr<float>(), d, config_.rms_norm_eps,
                          buf.h + b * d);
  }
  ForwardOutput out;
  if (!options.skip_logits) {
    out.logits = at::empty({B, 1, config_.vocab_size}, at::kFloat);
    kernels::linear(buf.h, d, B, detail::packed_matrix(lm_head_, matrix_type_, d).view(),
                    out.logits.data_ptr<float>(), config_.vocab_size, false);
  }
  if (options.return_hidden) {
    out.hidden = at::from_blob(buf.h, {B, 1, d}, at::kFloat).to(dtype_, false, /*copy=*/true);
  }
  return out;
}

}  // namespace pplug
