#include "pplug/llama_model.h"

#include <ATen/ATen.h>

#include <cmath>
#include <unordered_map>

#include "models/tensor_fingerprint.h"
#include "pplug/error.h"

namespace pplug {
namespace {

std::string shape_string(at::IntArrayRef shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

class WeightTable {
 public:
  WeightTable(const std::vector<std::pair<std::string, torch::Tensor>>& weights,
              std::string source)
      : source_(std::move(source)) {
    for (const auto& [name, tensor] : weights) table_.emplace(name, tensor);
  }
  bool has(const std::string& name) const { return table_.count(name) > 0; }
  torch::Tensor take(const std::string& name, std::vector<int64_t> shape,
                     torch::Dtype dtype) const {
    const auto it = table_.find(name);
    if (it == table_.end()) throw FormatError(source_ + ": missing tensor '" + name + "'");
    if (it->second.sizes() != at::IntArrayRef(shape)) {
      throw FormatError(source_ + ": tensor '" + name + "' has shape " +
                        shape_string(it->second.sizes()) + ", expected " + shape_string(shape));
    }
    return it->second.detach().to(dtype).contiguous();
  }

 private:
  std::string source_;
  std::unordered_map<std::string, torch::Tensor> table_;
};

}  // namespace

KVCache::KVCache(const LlamaModel& model, int64_t batch, int64_t capacity)
    : batch_(batch), capacity_(capacity) {
  const auto& c = model.config();
  if (batch <= 0 || capacity <= 0) {
    throw InvalidArgument("KVCache: batch and capacity must be positive");
  }
  if (capacity > c.max_position_embeddings) {
    throw InvalidArgument("KVCache: capacity " + std::to_string(capacity) +
                          " exceeds max_position_embeddings " +
                          std::to_string(c.max_position_embeddings));
  }
  const auto opts = at::TensorOptions().dtype(model.dtype());
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    keys_.push_back(at::zeros({batch, c.num_key_value_heads, capacity, c.head_dim()}, opts));
    values_.push_back(at::zeros({batch, c.num_key_value_heads, capacity, c.head_dim()}, opts));
  }
  mask_ = at::zeros({batch, capacity}, at::kLong);
  next_position_ = at::zeros({batch}, at::kLong);
}

void KVCache::reorder(const torch::Tensor& index) {
  for (auto& k : keys_) k = k.index_select(0, index);
  for (auto& v : values_) v = v.index_select(0, index);
  mask_ = mask_.index_select(0, index);
  next_position_ = next_position_.index_select(0, index);
  batch_ = index.size(0);
}

LlamaModel::LlamaModel(LlamaConfig config,
                       const std::vector<std::pair<std::string, torch::Tensor>>& weights,
                       torch::Dtype dtype, const std::string& source)
    : config_(config), dtype_(dtype) {
  config_.validate(source);
  if (dtype != torch::kFloat32 && dtype != torch::kBFloat16) {
    throw InvalidArgument(source + ": compute dtype must be float32 or bfloat16");
  }
  const WeightTable w(weights, source);
  const int64_t d = config_.hidden_size, hd = config_.head_dim();
  const int64_t q_dim = config_.num_attention_heads * hd, kv_dim = config_.kv_dim();
  const int64_t hidden = config_.intermediate_size, vocab = config_.vocab_size;

  embed_tokens_ = w.take("model.embed_tokens.weight", {vocab, d}, dtype);
  final_norm_ = w.take("model.norm.weight", {d}, dtype);
  if (config_.tie_word_embeddings) {
    lm_head_ = embed_tokens_;
  } else {
    lm_head_ = w.take("lm_head.weight", {vocab, d}, dtype);
  }
  for (int64_t i = 0; i < config_.num_hidden_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    Layer layer;
    layer.attn_norm = w.take(p + "input_layernorm.weight", {d}, dtype);
    layer.ffn_norm = w.take(p + "post_attention_layernorm.weight", {d}, dtype);
    layer.w_qkv = at::cat({w.take(p + "self_attn.q_proj.weight", {q_dim, d}, dtype),
                           w.take(p + "self_attn.k_proj.weight", {kv_dim, d}, dtype),
                           w.take(p + "self_attn.v_proj.weight", {kv_dim, d}, dtype)},
                          0);
    layer.w_o = w.take(p + "self_attn.o_proj.weight", {d, q_dim}, dtype);
    layer.w_gate_up = at::cat({w.take(p + "mlp.gate_proj.weight", {hidden, d}, dtype),
                               w.take(p + "mlp.up_proj.weight", {hidden, d}, dtype)},
                              0);
    layer.w_down = w.take(p + "mlp.down_proj.weight", {d, hidden}, dtype);
    layers_.push_back(std::move(layer));
  }

  // RoPE tables in the HF layout: frequency i applies to the pair (x[i], x[i + hd/2]).
  auto inv_freq = at::pow(config_.rope_theta,
                          -at::arange(0, hd, 2, at::kDouble) / static_cast<double>(hd));
  auto pos = at::arange(config_.max_position_embeddings, at::kDouble);
  auto angles = at::outer(pos, inv_freq);   // (P, hd/2)
  auto full = at::cat({angles, angles}, 1);  // (P, hd)
  rope_cos_ = full.cos().to(dtype);
  rope_sin_ = full.sin().to(dtype);

  fingerprint_ = detail::fingerprint_model(config_, named_weights());
}

std::vector<std::pair<std::string, torch::Tensor>> LlamaModel::named_weights() const {
  const int64_t hd = config_.head_dim();
  const int64_t q_dim = config_.num_attention_heads * hd, kv_dim = config_.kv_dim();
  const int64_t hidden = config_.intermediate_size;
  std::vector<std::pair<std::string, torch::Tensor>> out;
  out.emplace_back("model.embed_tokens.weight", embed_tokens_);
  for (size_t i = 0; i < layers_.size(); ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    const Layer& l = layers_[i];
    out.emplace_back(p + "input_layernorm.weight", l.attn_norm);
    out.emplace_back(p + "self_attn.q_proj.weight", l.w_qkv.narrow(0, 0, q_dim));
    out.emplace_back(p + "self_attn.k_proj.weight", l.w_qkv.narrow(0, q_dim, kv_dim));
    out.emplace_back(p + "self_attn.v_proj.weight", l.w_qkv.narrow(0, q_dim + kv_dim, kv_dim));
    out.emplace_back(p + "self_attn.o_proj.weight", l.w_o);
    out.emplace_back(p + "post_attention_layernorm.weight", l.ffn_norm);
    out.emplace_back(p + "mlp.gate_proj.weight", l.w_gate_up.narrow(0, 0, hidden));
    out.emplace_back(p + "mlp.up_proj.weight", l.w_gate_up.narrow(0, hidden, hidden));
    out.emplace_back(p + "mlp.down_proj.weight", l.w_down);
  }
  out.emplace_back("model.norm.weight", final_norm_);
  if (!config_.tie_word_embeddings) out.emplace_back("lm_head.weight", lm_head_);
  return out;
}

std::vector<torch::Tensor> LlamaModel::parameters() const {
  std::vector<torch::Tensor> out{embed_tokens_, final_norm_};
  if (!config_.tie_word_embeddings) out.push_back(lm_head_);
  for (const auto& l : layers_) {
    out.insert(out.end(), {l.attn_norm, l.w_qkv, l.w_o, l.ffn_norm, l.w_gate_up, l.w_down});
  }
  return out;
}

torch::Tensor LlamaModel::embed(const torch::Tensor& ids) const {
  const auto max_id = ids.numel() > 0 ? ids.max().item<int64_t>() : 0;
  const auto min_id = ids.numel() > 0 ? ids.min().item<int64_t>() : 0;
  if (min_id < 0 || max_id >= config_.vocab_size) {
    throw InvalidArgument("token id " + std::to_string(min_id < 0 ? min_id : max_id) +
                          " is outside the vocabulary (size " +
                          std::to_string(config_.vocab_size) + ")");
  }
  return at::embedding(embed_tokens_, ids);
}

torch::Tensor LlamaModel::rms_norm(const torch::Tensor& x, const torch::Tensor& weight) const {
  // Normalise in float32 whatever the compute dtype, as HF Llama does.
  auto xf = x.to(at::kFloat);
  auto normed = xf * at::rsqrt(xf.pow(2).mean(-1, true) + config_.rms_norm_eps);
  return normed.to(dtype_) * weight;
}

}  // namespace pplug
