// A plain, literal re-implementation of Hugging Face's modeling_t5.py (T5ForConditionalGeneration
// forward, no cache) in float64 ATen ops, for checking pplug's T5Model. It shares no code with
// the model: its own bucket function in tensor form as HF writes it, unfused q/k/v, its own norm,
// attention, gelu_new and head. Weights are read by HF name from the raw tensor list.
#pragma once

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "pplug/t5_config.h"

namespace pplug::t5_reference {

// HF's T5Attention._relative_position_bucket, line by line (relative_position = key - query).
inline at::Tensor relative_position_bucket(at::Tensor relative_position, bool bidirectional,
                                           int64_t num_buckets, int64_t max_distance) {
  auto relative_buckets = at::zeros_like(relative_position);
  if (bidirectional) {
    num_buckets /= 2;
    relative_buckets = relative_buckets + (relative_position > 0).to(at::kLong) * num_buckets;
    relative_position = at::abs(relative_position);
  } else {
    relative_position = -at::min(relative_position, at::zeros_like(relative_position));
  }
  const int64_t max_exact = num_buckets / 2;
  auto is_small = relative_position < max_exact;
  auto relative_position_if_large =
      max_exact +
      (at::log(relative_position.to(at::kFloat) / max_exact) /
       std::log(static_cast<double>(max_distance) / max_exact) * (num_buckets - max_exact))
          .to(at::kLong);
  relative_position_if_large = at::min(relative_position_if_large,
                                       at::full_like(relative_position_if_large, num_buckets - 1));
  return relative_buckets + at::where(is_small, relative_position, relative_position_if_large);
}

class Reference {
 public:
  Reference(T5Config c, const std::vector<std::pair<std::string, at::Tensor>>& weights)
      : c_(std::move(c)) {
    for (const auto& [name, t] : weights) w_[name] = t.to(at::kDouble);
  }

  // input_ids (B, S) or inputs_embeds (B, S, d); mask (B, S) -> encoder states (B, S, d).
  at::Tensor encode(const at::Tensor& inputs_embeds, const at::Tensor& mask) const {
    auto hidden = inputs_embeds.to(at::kDouble);
    const int64_t S = hidden.size(1);
    auto position_bias = compute_bias(S, S, true, "encoder") + extended(mask);
    for (int64_t i = 0; i < c_.num_layers; ++i) {
      const std::string p = "encoder.block." + std::to_string(i) + ".layer.";
      auto normed = layer_norm(hidden, get(p + "0.layer_norm.weight"));
      hidden = hidden + attention(normed, normed, p + "0.SelfAttention.", position_bias);
      hidden = hidden + ff(layer_norm(hidden, get(p + "1.layer_norm.weight")), p + "1.");
    }
    return layer_norm(hidden, get("encoder.final_layer_norm.weight"));
  }

  // Decoder logits (B, T, V) for decoder input embeddings (B, T, d) over encoder states.
  at::Tensor decode(const at::Tensor& decoder_embeds, const at::Tensor& encoder_states,
                    const at::Tensor& encoder_mask) const {
    auto hidden = decoder_embeds.to(at::kDouble);
    const int64_t T = hidden.size(1);
    auto causal = at::ones({T, T}, at::kDouble).tril();  // 1 where key <= query
    auto causal_mask = ((1.0 - causal) * kMin).view({1, 1, T, T});
    auto position_bias = compute_bias(T, T, false, "decoder") + causal_mask;
    auto cross_bias = extended(encoder_mask);  // cross-attention has no position bias
    for (int64_t i = 0; i < c_.num_decoder_layers; ++i) {
      const std::string p = "decoder.block." + std::to_string(i) + ".layer.";
      auto normed = layer_norm(hidden, get(p + "0.layer_norm.weight"));
      hidden = hidden + attention(normed, normed, p + "0.SelfAttention.", position_bias);
      normed = layer_norm(hidden, get(p + "1.layer_norm.weight"));
      hidden = hidden + attention(normed, encoder_states.to(at::kDouble), p + "1.EncDecAttention.",
                                  cross_bias);
      hidden = hidden + ff(layer_norm(hidden, get(p + "2.layer_norm.weight")), p + "2.");
    }
    auto sequence_output = layer_norm(hidden, get("decoder.final_layer_norm.weight"));
    if (c_.tie_word_embeddings) {
      sequence_output = sequence_output * std::pow(static_cast<double>(c_.d_model), -0.5);
      return at::matmul(sequence_output, get("shared.weight").t());
    }
    return at::matmul(sequence_output, get("lm_head.weight").t());
  }

  at::Tensor embed(const at::Tensor& ids) const { return at::embedding(get("shared.weight"), ids); }

 private:
  static constexpr double kMin = -3.4028234663852886e38;  // torch.finfo(float32).min

  at::Tensor get(const std::string& name) const {
    const auto it = w_.find(name);
    if (it == w_.end()) {
      ADD_FAILURE() << "reference: no tensor " << name;
      return at::Tensor();
    }
    return it->second;
  }
  // (B, S) 1/0 -> (B, 1, 1, S) 0/min, as HF's get_extended_attention_mask.
  static at::Tensor extended(const at::Tensor& mask) {
    return ((1.0 - mask.to(at::kDouble)) * kMin).view({mask.size(0), 1, 1, mask.size(1)});
  }
  at::Tensor layer_norm(const at::Tensor& x, const at::Tensor& weight) const {
    auto variance = x.pow(2).mean(-1, true);
    return weight * (x * at::rsqrt(variance + c_.layer_norm_epsilon));
  }
  at::Tensor compute_bias(int64_t query_length, int64_t key_length, bool bidirectional,
                          const std::string& stack) const {
    auto context_position = at::arange(query_length, at::kLong).unsqueeze(1);
    auto memory_position = at::arange(key_length, at::kLong).unsqueeze(0);
    auto relative_position = memory_position - context_position;
    auto bucket = relative_position_bucket(relative_position, bidirectional,
                                           c_.relative_attention_num_buckets,
                                           c_.relative_attention_max_distance);
    auto values = at::embedding(
        get(stack + ".block.0.layer.0.SelfAttention.relative_attention_bias.weight"), bucket);
    return values.permute({2, 0, 1}).unsqueeze(0);  // (1, H, q, k)
  }
  at::Tensor attention(const at::Tensor& x, const at::Tensor& kv_input, const std::string& p,
                       const at::Tensor& position_bias) const {
    const int64_t B = x.size(0), H = c_.num_heads, dk = c_.d_kv;
    auto shape = [&](const at::Tensor& t) { return t.view({B, -1, H, dk}).transpose(1, 2); };
    auto q = shape(at::matmul(x, get(p + "q.weight").t()));
    auto k = shape(at::matmul(kv_input, get(p + "k.weight").t()));
    auto v = shape(at::matmul(kv_input, get(p + "v.weight").t()));
    auto scores = at::matmul(q, k.transpose(3, 2));  // no 1/sqrt(dk) in T5
    scores = scores + position_bias;
    auto attn_weights = at::softmax(scores, -1);
    auto attn_output = at::matmul(attn_weights, v).transpose(1, 2).reshape({B, -1, H * dk});
    return at::matmul(attn_output, get(p + "o.weight").t());
  }
  static at::Tensor gelu_new(const at::Tensor& x) {
    return 0.5 * x * (1.0 + at::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * at::pow(x, 3.0))));
  }
  at::Tensor ff(const at::Tensor& x, const std::string& p) const {
    const std::string d = p + "DenseReluDense.";
    if (c_.feed_forward_proj == "gated-gelu") {
      auto hidden_gelu = gelu_new(at::matmul(x, get(d + "wi_0.weight").t()));
      auto hidden_linear = at::matmul(x, get(d + "wi_1.weight").t());
      return at::matmul(hidden_gelu * hidden_linear, get(d + "wo.weight").t());
    }
    auto h = at::relu(at::matmul(x, get(d + "wi.weight").t()));
    return at::matmul(h, get(d + "wo.weight").t());
  }

  T5Config c_;
  std::map<std::string, at::Tensor> w_;
};

}  // namespace pplug::t5_reference
