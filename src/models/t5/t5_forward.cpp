// T5's forward passes: the encoder, the full decoder (teacher forcing, training) and the
// incremental decoder over a T5DecoderCache. Matrix products of a decode step (a few rows, no
// gradient) run on the decode kernels, which read each weight once; everything else goes
// through kernels::dense_linear (float32 GEMM, bf16 widened in panels where the CPU has no
// native bf16, differentiable). Attention is plain ATen.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>

#include "kernels/cpu_isa.h"
#include "kernels/dense_linear.h"
#include "kernels/linear_kernels.h"
#include "pplug/error.h"
#include "pplug/t5_model.h"

namespace pplug {
namespace {

constexpr double kMaskedScore = -1e30;  // see t5_model.cpp
// Up to this many rows a product is a chain of matrix-vector products bound by reading the
// weights, where the decode kernels beat a GEMM call (docs/design.md; a FlanT5-base-shaped decode
// step went from 163 to 122 ms in f32 on a loaded 2-core machine).
constexpr int64_t kDecodeRows = 8;

// x (..., K) . w (N, K)^T -> (..., N) in x's dtype.
torch::Tensor project(const torch::Tensor& x, const torch::Tensor& w) {
  const int64_t rows = x.numel() / x.size(-1);
  if (rows > kDecodeRows || (at::GradMode::is_enabled() && x.requires_grad())) {
    return kernels::dense_linear(x, w);
  }
  const auto xf = x.to(at::kFloat).contiguous();
  auto sizes = x.sizes().vec();
  sizes.back() = w.size(0);
  auto y = at::empty({rows, w.size(0)}, at::kFloat);
  kernels::linear(xf.data_ptr<float>(), w.size(1), rows, kernels::weight_view(w),
                  y.data_ptr<float>(), w.size(0), false);
  return y.view(sizes).to(x.scalar_type());
}

// a . b for the attention products: libtorch's bf16 matmul is ~60x slower than float32 without
// AVX512_BF16, so bf16 operands are multiplied in float32 there and rounded back.
torch::Tensor attention_matmul(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.scalar_type() != at::kBFloat16 || kernels::best_isa() >= kernels::Isa::kAvx512Bf16) {
    return at::matmul(a, b);
  }
  return at::matmul(a.to(at::kFloat), b.to(at::kFloat)).to(at::kBFloat16);
}

// (B, 1, 1, S) float32: 0 where mask is 1, kMaskedScore where it is 0.
torch::Tensor key_bias(const torch::Tensor& mask) {
  const int64_t B = mask.size(0), S = mask.size(1);
  return at::zeros({B, 1, 1, S}, at::kFloat)
      .masked_fill(mask.eq(0).view({B, 1, 1, S}), kMaskedScore);
}

// A (B, T) mask as int64, all ones when undefined; InvalidArgument when the shape is not (B, T).
torch::Tensor checked_mask(const torch::Tensor& mask, int64_t B, int64_t T, const char* what) {
  if (!mask.defined()) return at::ones({B, T}, at::kLong);
  if (mask.dim() != 2 || mask.size(0) != B || mask.size(1) != T) {
    throw InvalidArgument(std::string("T5Model: ") + what + " must have shape (B, T) = (" +
                          std::to_string(B) + ", " + std::to_string(T) + ")");
  }
  return mask.to(at::kLong);
}

void check_embeds(const torch::Tensor& x, int64_t d, const char* what) {
  if (!x.defined() || x.dim() != 3 || x.size(2) != d || x.size(0) == 0 || x.size(1) == 0) {
    throw InvalidArgument(std::string("T5Model: ") + what + " must have shape (B > 0, T > 0, " +
                          std::to_string(d) + ")");
  }
}

// (B, T, H dk) -> (B, H, T, dk)
torch::Tensor heads(const torch::Tensor& x, int64_t H, int64_t dk) {
  return x.view({x.size(0), x.size(1), H, dk}).transpose(1, 2);
}

}  // namespace

torch::Tensor T5Model::position_bias(const torch::Tensor& table, int64_t q0, int64_t T, int64_t S,
                                     bool bidirectional) const {
  // Buckets depend only on key - query, which ranges over [-(q0 + T - 1), S - 1]: one bucket per
  // distinct difference, then gathered into the (T, S) grid.
  const int64_t lowest = -(q0 + T - 1), count = S - lowest;
  auto lut = at::empty({count}, at::kLong);
  auto* l = lut.data_ptr<int64_t>();
  for (int64_t i = 0; i < count; ++i) {
    l[i] = t5_relative_position_bucket(lowest + i, bidirectional,
                                       config_.relative_attention_num_buckets,
                                       config_.relative_attention_max_distance);
  }
  auto rel = at::arange(S, at::kLong).unsqueeze(0) - (at::arange(T, at::kLong) + q0).unsqueeze(1);
  auto buckets = lut.index_select(0, (rel - lowest).reshape({-1})).view({T, S});
  return at::embedding(table, buckets).permute({2, 0, 1}).unsqueeze(0);  // (1, H, T, S)
}

torch::Tensor T5Model::attend(const torch::Tensor& q, const torch::Tensor& k,
                              const torch::Tensor& v, const torch::Tensor& bias) const {
  // No 1/sqrt(dk): T5 scales its query initialisation instead. Softmax in float32, as HF does.
  auto scores = attention_matmul(q, k.transpose(-1, -2)).to(at::kFloat) + bias;  // (B, H, T, S)
  auto probs = at::softmax(scores, -1).to(dtype_);
  auto out = attention_matmul(probs, v);  // (B, H, T, dk)
  return out.transpose(1, 2).reshape({q.size(0), q.size(2), config_.inner_dim()});
}

torch::Tensor T5Model::feed_forward(const FeedForward& f, const torch::Tensor& x) const {
  auto h = project(rms_norm(x, f.norm), f.w_in);
  if (config_.gated()) {
    const int64_t ff = config_.d_ff;
    h = at::gelu(h.narrow(-1, 0, ff), "tanh") * h.narrow(-1, ff, ff);  // gelu_new(wi_0) * wi_1
  } else {
    h = at::relu(h);
  }
  return project(h, f.w_out);
}

torch::Tensor T5Model::encode(const torch::Tensor& inputs_embeds,
                              const torch::Tensor& attention_mask) const {
  check_embeds(inputs_embeds, config_.d_model, "inputs_embeds");
  const int64_t B = inputs_embeds.size(0), S = inputs_embeds.size(1);
  const int64_t H = config_.num_heads, dk = config_.d_kv, inner = config_.inner_dim();
  const auto mask = checked_mask(attention_mask, B, S, "attention_mask");
  // One bias for every layer: the table of block 0 plus the padding mask. (B, H, S, S)
  const auto bias = position_bias(encoder_bias_, 0, S, S, true) + key_bias(mask);
  auto x = inputs_embeds.to(dtype_);
  for (const auto& layer : encoder_) {
    auto qkv = project(rms_norm(x, layer.self.norm), layer.self.w_qkv);
    auto q = heads(qkv.narrow(-1, 0, inner), H, dk);
    auto k = heads(qkv.narrow(-1, inner, inner), H, dk);
    auto v = heads(qkv.narrow(-1, 2 * inner, inner), H, dk);
    x = x + project(attend(q, k, v, bias), layer.self.w_o);
    x = x + feed_forward(layer.ffn, x);
  }
  return rms_norm(x, encoder_norm_);
}

torch::Tensor T5Model::decoder_stack(torch::Tensor x, const torch::Tensor& self_bias,
                                     const std::vector<torch::Tensor>& cross_k,
                                     const std::vector<torch::Tensor>& cross_v,
                                     const torch::Tensor& cross_bias, T5DecoderCache* cache) const {
  const int64_t H = config_.num_heads, dk = config_.d_kv, inner = config_.inner_dim();
  const int64_t T = x.size(1);
  for (size_t i = 0; i < decoder_.size(); ++i) {
    const auto& layer = decoder_[i];
    auto qkv = project(rms_norm(x, layer.self.norm), layer.self.w_qkv);
    auto q = heads(qkv.narrow(-1, 0, inner), H, dk);
    auto k = heads(qkv.narrow(-1, inner, inner), H, dk);
    auto v = heads(qkv.narrow(-1, 2 * inner, inner), H, dk);
    if (cache != nullptr) {
      const int64_t start = cache->length_;
      cache->keys_[i].narrow(2, start, T).copy_(k);
      cache->values_[i].narrow(2, start, T).copy_(v);
      k = cache->keys_[i].narrow(2, 0, start + T);
      v = cache->values_[i].narrow(2, 0, start + T);
    }
    x = x + project(attend(q, k, v, self_bias), layer.self.w_o);
    auto cq = heads(project(rms_norm(x, layer.cross.norm), layer.cross.w_q), H, dk);
    x = x + project(attend(cq, cross_k[i], cross_v[i], cross_bias), layer.cross.w_o);
    x = x + feed_forward(layer.ffn, x);
  }
  return x;
}

T5DecodeOutput T5Model::head(const torch::Tensor& x, const T5DecodeOptions& options) const {
  T5DecodeOutput out;
  auto h = rms_norm(x, decoder_norm_);  // (B, T, d)
  if (options.return_hidden) out.hidden = h;
  if (options.last_logits_only) h = h.narrow(1, h.size(1) - 1, 1);
  // Original T5 ties the head to the embedding and rescales the decoder output first.
  if (config_.tie_word_embeddings) h = h * std::pow(static_cast<double>(config_.d_model), -0.5);
  // Float32 input: float32 logits, not logits rounded to a bf16 compute dtype.
  out.logits = project(h.to(at::kFloat), lm_head_);
  return out;
}

T5DecodeOutput T5Model::decode(const torch::Tensor& decoder_inputs_embeds,
                               const torch::Tensor& decoder_mask,
                               const torch::Tensor& encoder_states,
                               const torch::Tensor& encoder_mask,
                               const T5DecodeOptions& options) const {
  check_embeds(decoder_inputs_embeds, config_.d_model, "decoder_inputs_embeds");
  check_embeds(encoder_states, config_.d_model, "encoder_states");
  const int64_t B = decoder_inputs_embeds.size(0), T = decoder_inputs_embeds.size(1);
  const int64_t S = encoder_states.size(1);
  if (encoder_states.size(0) != B) {
    throw InvalidArgument("T5Model::decode: encoder_states batch " +
                          std::to_string(encoder_states.size(0)) + " differs from decoder batch " +
                          std::to_string(B));
  }
  const auto dec_mask = checked_mask(decoder_mask, B, T, "decoder_mask");
  const auto enc_mask = checked_mask(encoder_mask, B, S, "encoder_mask");
  const int64_t H = config_.num_heads, dk = config_.d_kv, inner = config_.inner_dim();
  auto causal = at::ones({T, T}, at::kBool).triu(1);  // key after query
  auto self_bias = position_bias(decoder_bias_, 0, T, T, false) +
                   at::zeros({T, T}, at::kFloat).masked_fill(causal, kMaskedScore) +
                   key_bias(dec_mask);  // (B, H, T, T)
  const auto states = encoder_states.to(dtype_);
  std::vector<torch::Tensor> cross_k, cross_v;
  for (const auto& layer : decoder_) {
    auto kv = project(states, layer.cross.w_kv);  // (B, S, 2 inner)
    cross_k.push_back(heads(kv.narrow(-1, 0, inner), H, dk));
    cross_v.push_back(heads(kv.narrow(-1, inner, inner), H, dk));
  }
  auto x = decoder_stack(decoder_inputs_embeds.to(dtype_), self_bias, cross_k, cross_v,
                         key_bias(enc_mask), nullptr);
  return head(x, options);
}

T5DecodeOutput T5Model::decode_step(const torch::Tensor& decoder_inputs_embeds,
                                    T5DecoderCache& cache, const T5DecodeOptions& options) const {
  check_embeds(decoder_inputs_embeds, config_.d_model, "decoder_inputs_embeds");
  const int64_t B = decoder_inputs_embeds.size(0), T = decoder_inputs_embeds.size(1);
  if (B != cache.batch_) {
    throw InvalidArgument("T5Model::decode_step: cache batch " + std::to_string(cache.batch_) +
                          " differs from input batch " + std::to_string(B));
  }
  if (static_cast<int64_t>(cache.keys_.size()) != config_.num_decoder_layers) {
    throw InvalidArgument("T5Model::decode_step: the cache belongs to another model");
  }
  const int64_t start = cache.length_, S = start + T;
  if (S > cache.capacity_) {
    throw InvalidArgument("T5Model::decode_step: " + std::to_string(S) +
                          " decoder positions exceed the cache capacity " +
                          std::to_string(cache.capacity_));
  }
  torch::Tensor self_bias = position_bias(decoder_bias_, start, T, S, false);  // (1, H, T, S)
  if (T > 1) {
    auto causal =
        (at::arange(S, at::kLong).unsqueeze(0) > (at::arange(T, at::kLong) + start).unsqueeze(1));
    self_bias = self_bias + at::zeros({T, S}, at::kFloat).masked_fill(causal, kMaskedScore);
  }
  auto x = decoder_stack(decoder_inputs_embeds.to(dtype_), self_bias, cache.cross_keys_,
                         cache.cross_values_, cache.cross_bias_, &cache);
  cache.length_ = S;
  return head(x, options);
}

}  // namespace pplug
