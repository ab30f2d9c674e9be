#include "pplug/llama_model.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <unordered_map>

#include "memory/weight_arena.h"
#include "models/llama/llama_matrices.h"
#include "models/tensor_checks.h"
#include "models/tensor_fingerprint.h"
#include "pplug/error.h"

namespace pplug {
namespace {

std::string shape_string(at::IntArrayRef shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// Looks weights up by name, checks shapes, and places matrices in a WeightArena (huge pages)
// in the compute dtype. Weights already there in the right dtype are used in place, and
// projections that sit back to back in memory are fused without a copy (read_llama2c loads
// them that way), so a float32 model from a llama2.c file is never copied after reading.
class WeightTable {
 public:
  WeightTable(const std::vector<std::pair<std::string, torch::Tensor>>& weights, std::string source,
              size_t arena_bytes)
      : source_(std::move(source)), arena_(arena_bytes) {
    for (const auto& [name, tensor] : weights) table_.emplace(name, tensor);
  }
  // Throws FormatError naming the tensors of the file that no part of the model used: a config
  // whose num_hidden_layers (or tie_word_embeddings) disagrees with the file, or a file of
  // another architecture. Tolerated: rotary inv_freq buffers and a tied model's lm_head copy.
  void require_all_used(const LlamaConfig& config) const {
    std::vector<std::string> unused;
    for (const auto& [name, tensor] : table_) {
      if (used_.count(name) > 0) continue;
      if (name.size() >= 8 && name.compare(name.size() - 8, 8, "inv_freq") == 0) continue;
      if (config.tie_word_embeddings && name == "lm_head.weight") continue;
      unused.push_back(name);
    }
    if (unused.empty()) return;
    std::sort(unused.begin(), unused.end());
    std::string list;
    for (size_t i = 0; i < unused.size() && i < 5; ++i) list += (i ? ", '" : "'") + unused[i] + "'";
    if (unused.size() > 5) list += " and " + std::to_string(unused.size() - 5) + " more";
    throw FormatError(source_ + ": " + std::to_string(unused.size()) +
                      " unexpected tensor(s) for a model with num_hidden_layers " +
                      std::to_string(config.num_hidden_layers) +
                      " (does the config disagree with the weights?): " + list);
  }
  // A small tensor (norm weights) in ordinary memory.
  torch::Tensor vector(const std::string& name, int64_t size, torch::Dtype dtype) const {
    return find(name, {size}).detach().to(dtype).contiguous();
  }
  torch::Tensor matrix(const std::string& name, int64_t rows, int64_t cols, torch::Dtype dtype) {
    return fused({{name, rows}}, cols, dtype);
  }
  // Rows of several matrices stacked, e.g. q, k, v -> (q + k + v, cols).
  torch::Tensor fused(const std::vector<std::pair<std::string, int64_t>>& parts, int64_t cols,
                      torch::Dtype dtype) {
    std::vector<torch::Tensor> found;
    int64_t rows = 0;
    for (const auto& [name, part_rows] : parts) {
      found.push_back(find(name, {part_rows, cols}).detach());
      rows += part_rows;
    }
    if (in_place(found, dtype)) {
      return at::empty({0}, found[0].options())
          .set_(found[0].storage(), found[0].storage_offset(), {rows, cols}, {cols, 1});
    }
    return stack_rows(found, rows, cols, dtype);
  }
  // Like fused(), but stored as `type` (kernels::storage_type_for): parts already in that
  // layout (uint8 block rows, as a GGUF file holds them) are copied as they are, float parts
  // are converted.
  torch::Tensor fused_packed(const std::vector<std::pair<std::string, int64_t>>& parts,
                             int64_t cols, kernels::WeightType type) {
    const auto stored = kernels::storage_type_for(type, cols);
    std::vector<torch::Tensor> packed;
    int64_t rows = 0;
    for (const auto& [name, part_rows] : parts) {
      const auto it = table_.find(name);
      if (it != table_.end() && it->second.scalar_type() == at::kByte) {
        if (!kernels::is_block_quantized(stored)) {
          throw FormatError(source_ + ": tensor '" + name +
                            "' holds quantized bytes, but rows of " + std::to_string(cols) +
                            " weights are not whole blocks of 32");
        }
        packed.push_back(find(name, {part_rows, kernels::row_bytes(stored, cols)}));
      } else {
        packed.push_back(kernels::pack_weight(find(name, {part_rows, cols}).detach(), stored).data);
      }
      rows += part_rows;
    }
    return stack_rows(packed, rows, packed[0].size(1), packed[0].scalar_type());
  }
  // True when `name` is given as uint8 block rows.
  bool is_packed(const std::string& name) const {
    const auto it = table_.find(name);
    return it != table_.end() && it->second.scalar_type() == at::kByte;
  }

 private:
  const torch::Tensor& find(const std::string& name, const std::vector<int64_t>& shape) const {
    const auto it = table_.find(name);
    if (it == table_.end()) throw FormatError(source_ + ": missing tensor '" + name + "'");
    if (it->second.sizes() != at::IntArrayRef(shape)) {
      throw FormatError(source_ + ": tensor '" + name + "' has shape " +
                        shape_string(it->second.sizes()) + ", expected " + shape_string(shape));
    }
    if (used_.insert(name).second) detail::require_finite(it->second, source_, name);
    return it->second;
  }
  // `parts` stacked row-wise into one new (rows, cols) arena tensor of `dtype`.
  torch::Tensor stack_rows(const std::vector<torch::Tensor>& parts, int64_t rows, int64_t cols,
                           torch::Dtype dtype) {
    auto out = arena_.empty({rows, cols}, dtype);
    int64_t offset = 0;
    for (const auto& t : parts) {
      out.narrow(0, offset, t.size(0)).copy_(t);
      offset += t.size(0);
    }
    return out;
  }
  // True when the parts are arena memory in `dtype`, contiguous and consecutive.
  static bool in_place(const std::vector<torch::Tensor>& parts, torch::Dtype dtype) {
    for (size_t i = 0; i < parts.size(); ++i) {
      const auto& t = parts[i];
      if (t.scalar_type() != dtype || !t.is_contiguous() || !memory::in_weight_arena(t)) {
        return false;
      }
      if (i > 0) {
        const auto& prev = parts[i - 1];
        if (!t.storage().is_alias_of(prev.storage()) ||
            t.storage_offset() != prev.storage_offset() + prev.numel()) {
          return false;
        }
      }
    }
    return true;
  }

  std::string source_;
  std::unordered_map<std::string, torch::Tensor> table_;
  mutable std::set<std::string> used_;
  memory::WeightArena arena_;
};

// RoPE's inverse frequencies theta^(-2i/hd), divided as the config's scaling says (HF's
// linear and llama3 rules, or a GGUF's rope_freqs factors: LlamaConfig::rope_frequency_divisors).
at::Tensor scaled_inverse_frequencies(const LlamaConfig& c) {
  const int64_t hd = c.head_dim();
  auto inv_freq =
      at::pow(c.rope_theta, -at::arange(0, hd, 2, at::kDouble) / static_cast<double>(hd));
  const auto divisors = c.rope_frequency_divisors();
  auto* f = inv_freq.data_ptr<double>();
  for (int64_t i = 0; i < inv_freq.numel(); ++i) f[i] /= divisors[static_cast<size_t>(i)];
  return inv_freq;
}

}  // namespace

LlamaModel::LlamaModel(LlamaConfig config,
                       const std::vector<std::pair<std::string, torch::Tensor>>& weights,
                       torch::Dtype dtype, const std::string& source,
                       const std::string& weight_type)
    : config_(config), dtype_(dtype) {
  config_.validate(source);
  if (dtype != torch::kFloat32 && dtype != torch::kBFloat16) {
    throw InvalidArgument(source + ": compute dtype must be float32 or bfloat16");
  }
  auto matrix_type =
      dtype == torch::kBFloat16 ? kernels::WeightType::kBF16 : kernels::WeightType::kF32;
  if (!weight_type.empty() && !kernels::parse_weight_type(weight_type, &matrix_type)) {
    throw InvalidArgument(source + ": unknown weight type '" + weight_type +
                          "' (expected f32, bf16, f16, q8_0 or q4_0)");
  }
  // Built in the compute dtype first; re-packed below once the fingerprint is taken. Weights
  // that arrive already quantized (uint8 block rows) are kept as they are instead.
  matrix_type_ = static_cast<uint8_t>(dtype == torch::kBFloat16 ? kernels::WeightType::kBF16
                                                                : kernels::WeightType::kF32);
  bool prequantized = false;
  for (const auto& [name, tensor] : weights) {
    if (tensor.scalar_type() != at::kByte) continue;
    if (!kernels::is_block_quantized(matrix_type)) {
      throw InvalidArgument(source + ": tensor '" + name +
                            "' holds quantized bytes; weight_type must name their layout "
                            "(q8_0 or q4_0), not '" +
                            kernels::weight_type_name(matrix_type) + "'");
    }
    prequantized = true;
  }
  if (prequantized) matrix_type_ = static_cast<uint8_t>(matrix_type);
  const int64_t d = config_.hidden_size, hd = config_.head_dim();
  const int64_t q_dim = config_.num_attention_heads * hd, kv_dim = config_.kv_dim();
  const int64_t hidden = config_.intermediate_size, vocab = config_.vocab_size;
  const int64_t per_layer = (q_dim + 2 * kv_dim) * d + d * q_dim + 3 * hidden * d;
  const int64_t matrices =
      vocab * d * (config_.tie_word_embeddings ? 1 : 2) + per_layer * config_.num_hidden_layers;
  WeightTable w(weights, source, static_cast<size_t>(matrices) * c10::elementSize(dtype));

  if (w.is_packed("model.embed_tokens.weight")) {
    throw InvalidArgument(source + ": the token embedding must be given as floats");
  }
  embed_tokens_ = w.matrix("model.embed_tokens.weight", vocab, d, dtype);
  final_norm_ = w.vector("model.norm.weight", d, dtype);
  // Layer matrices: in the compute dtype, or kept as given when they arrive quantized.
  auto matrix = [&](const std::vector<std::pair<std::string, int64_t>>& parts, int64_t cols) {
    return prequantized ? w.fused_packed(parts, cols, matrix_type) : w.fused(parts, cols, dtype);
  };
  if (config_.tie_word_embeddings) {
    lm_head_ =
        prequantized
            ? kernels::pack_weight(embed_tokens_, kernels::storage_type_for(matrix_type, d)).data
            : embed_tokens_;
  } else {
    lm_head_ = matrix({{"lm_head.weight", vocab}}, d);
  }
  for (int64_t i = 0; i < config_.num_hidden_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    Layer layer;
    layer.attn_norm = w.vector(p + "input_layernorm.weight", d, dtype);
    layer.ffn_norm = w.vector(p + "post_attention_layernorm.weight", d, dtype);
    layer.w_qkv = matrix({{p + "self_attn.q_proj.weight", q_dim},
                          {p + "self_attn.k_proj.weight", kv_dim},
                          {p + "self_attn.v_proj.weight", kv_dim}},
                         d);
    layer.w_o = matrix({{p + "self_attn.o_proj.weight", d}}, q_dim);
    layer.w_gate_up =
        matrix({{p + "mlp.gate_proj.weight", hidden}, {p + "mlp.up_proj.weight", hidden}}, d);
    layer.w_down = matrix({{p + "mlp.down_proj.weight", d}}, hidden);
    layer.attn_norm_f32 = layer.attn_norm.to(at::kFloat).contiguous();
    layer.ffn_norm_f32 = layer.ffn_norm.to(at::kFloat).contiguous();
    if (config_.qkv_bias) {
      layer.qkv_bias = at::cat({w.vector(p + "self_attn.q_proj.bias", q_dim, dtype),
                                w.vector(p + "self_attn.k_proj.bias", kv_dim, dtype),
                                w.vector(p + "self_attn.v_proj.bias", kv_dim, dtype)});
      layer.qkv_bias_f32 = layer.qkv_bias.to(at::kFloat).contiguous();
    }
    if (config_.o_bias) {
      layer.o_bias = w.vector(p + "self_attn.o_proj.bias", d, dtype);
      layer.o_bias_f32 = layer.o_bias.to(at::kFloat).contiguous();
    }
    if (config_.qk_norm) {
      layer.q_norm = w.vector(p + "self_attn.q_norm.weight", hd, dtype);
      layer.k_norm = w.vector(p + "self_attn.k_norm.weight", hd, dtype);
      layer.q_norm_f32 = layer.q_norm.to(at::kFloat).contiguous();
      layer.k_norm_f32 = layer.k_norm.to(at::kFloat).contiguous();
    }
    layers_.push_back(std::move(layer));
  }
  w.require_all_used(config_);

  // RoPE tables in the HF layout: frequency i applies to the pair (x[i], x[i + hd/2]).
  auto inv_freq = scaled_inverse_frequencies(config_);
  auto pos = at::arange(config_.max_position_embeddings, at::kDouble);
  auto angles = at::outer(pos, inv_freq);    // (P, hd/2)
  auto full = at::cat({angles, angles}, 1);  // (P, hd)
  rope_cos_ = full.cos().to(dtype);
  rope_sin_ = full.sin().to(dtype);
  rope_cos_f32_ = full.cos().to(at::kFloat);
  rope_sin_f32_ = full.sin().to(at::kFloat);
  if (dtype == torch::kFloat32) {  // share storage rather than keep equal copies
    rope_cos_f32_ = rope_cos_;
    rope_sin_f32_ = rope_sin_;
  }
  final_norm_f32_ = final_norm_.to(at::kFloat).contiguous();

  // The fingerprint of the weights as given (before any re-packing below): a file quantized at
  // load still matches plug-ins trained on its float version.
  fingerprint_ = detail::fingerprint_model(config_, named_weights());
  if (static_cast<uint8_t>(matrix_type) != matrix_type_) {
    pack_matrices(static_cast<uint8_t>(matrix_type));
  }
  // In the background: loading returns now, decoding speeds up once the weights sit on 2 MB
  // pages (see kernels/weight_arena.h).
  memory::promote_to_huge_pages(parameters());
}

void LlamaModel::pack_matrices(uint8_t type) {
  const auto wanted = static_cast<kernels::WeightType>(type);
  const int64_t d = config_.hidden_size, hidden = config_.intermediate_size;
  const int64_t q_dim = config_.num_attention_heads * config_.head_dim();
  auto bytes_of = [&](int64_t rows, int64_t cols) {
    return rows * kernels::row_bytes(kernels::storage_type_for(wanted, cols), cols);
  };
  int64_t bytes = bytes_of(config_.vocab_size, d);
  for (const auto& l : layers_) {
    bytes += bytes_of(l.w_qkv.size(0) + l.w_gate_up.size(0), d) + bytes_of(d, q_dim) +
             bytes_of(d, hidden);
  }
  memory::WeightArena arena(static_cast<size_t>(bytes));
  auto pack = [&](torch::Tensor& t, int64_t cols) {
    t = kernels::pack_weight(t, kernels::storage_type_for(wanted, cols), &arena).data;
  };
  for (auto& l : layers_) {
    pack(l.w_qkv, d);
    pack(l.w_o, q_dim);
    pack(l.w_gate_up, d);
    pack(l.w_down, hidden);
  }
  // The token embedding stays in the compute dtype (a lookup reads one row); a tied output head
  // gets its own packed copy.
  pack(lm_head_, d);
  // The vectors and the embedding may be views into the memory the float matrices came in (one
  // arena region holds a whole llama2.c file): copies of their own let that memory go.
  embed_tokens_ = embed_tokens_.clone();
  final_norm_ = final_norm_.clone();
  final_norm_f32_ = final_norm_f32_.clone();
  for (auto& l : layers_) {
    for (torch::Tensor* t : {&l.attn_norm, &l.ffn_norm, &l.attn_norm_f32, &l.ffn_norm_f32,
                             &l.qkv_bias, &l.qkv_bias_f32, &l.o_bias, &l.o_bias_f32, &l.q_norm,
                             &l.q_norm_f32, &l.k_norm, &l.k_norm_f32}) {
      if (t->defined()) *t = t->clone();
    }
  }
  matrix_type_ = type;
}

void LlamaModel::check_sliding_window(int64_t positions) const {
  if (config_.sliding_window > 0 && positions > config_.sliding_window) {
    throw InvalidArgument("LlamaModel::forward: " + std::to_string(positions) +
                          " positions exceed the sliding window of " +
                          std::to_string(config_.sliding_window) +
                          " (sliding-window attention is not implemented; keep sequences within "
                          "the window)");
  }
}

std::string LlamaModel::weight_type() const {
  return kernels::weight_type_name(static_cast<kernels::WeightType>(matrix_type_));
}

std::vector<std::pair<std::string, torch::Tensor>> LlamaModel::named_weights() const {
  const int64_t hd = config_.head_dim();
  const int64_t q_dim = config_.num_attention_heads * hd, kv_dim = config_.kv_dim();
  const int64_t hidden = config_.intermediate_size;
  const int64_t d = config_.hidden_size;
  auto dense = [&](const torch::Tensor& t, int64_t cols) {
    return detail::packed_matrix(t, matrix_type_, cols).dense(dtype_);
  };
  std::vector<std::pair<std::string, torch::Tensor>> out;
  out.emplace_back("model.embed_tokens.weight", embed_tokens_);
  for (size_t i = 0; i < layers_.size(); ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    Layer l = layers_[i];
    l.w_qkv = dense(l.w_qkv, d);
    l.w_o = dense(l.w_o, q_dim);
    l.w_gate_up = dense(l.w_gate_up, d);
    l.w_down = dense(l.w_down, hidden);
    out.emplace_back(p + "input_layernorm.weight", l.attn_norm);
    out.emplace_back(p + "self_attn.q_proj.weight", l.w_qkv.narrow(0, 0, q_dim));
    out.emplace_back(p + "self_attn.k_proj.weight", l.w_qkv.narrow(0, q_dim, kv_dim));
    out.emplace_back(p + "self_attn.v_proj.weight", l.w_qkv.narrow(0, q_dim + kv_dim, kv_dim));
    out.emplace_back(p + "self_attn.o_proj.weight", l.w_o);
    if (l.qkv_bias.defined()) {
      out.emplace_back(p + "self_attn.q_proj.bias", l.qkv_bias.narrow(0, 0, q_dim));
      out.emplace_back(p + "self_attn.k_proj.bias", l.qkv_bias.narrow(0, q_dim, kv_dim));
      out.emplace_back(p + "self_attn.v_proj.bias", l.qkv_bias.narrow(0, q_dim + kv_dim, kv_dim));
    }
    if (l.o_bias.defined()) out.emplace_back(p + "self_attn.o_proj.bias", l.o_bias);
    if (l.q_norm.defined()) {
      out.emplace_back(p + "self_attn.q_norm.weight", l.q_norm);
      out.emplace_back(p + "self_attn.k_norm.weight", l.k_norm);
    }
    out.emplace_back(p + "post_attention_layernorm.weight", l.ffn_norm);
    out.emplace_back(p + "mlp.gate_proj.weight", l.w_gate_up.narrow(0, 0, hidden));
    out.emplace_back(p + "mlp.up_proj.weight", l.w_gate_up.narrow(0, hidden, hidden));
    out.emplace_back(p + "mlp.down_proj.weight", l.w_down);
  }
  out.emplace_back("model.norm.weight", final_norm_);
  if (!config_.tie_word_embeddings) out.emplace_back("lm_head.weight", dense(lm_head_, d));
  return out;
}

std::vector<torch::Tensor> LlamaModel::parameters() const {
  std::vector<torch::Tensor> out{embed_tokens_, final_norm_};
  if (!lm_head_.is_same(embed_tokens_)) out.push_back(lm_head_);
  for (const auto& l : layers_) {
    out.insert(out.end(), {l.attn_norm, l.w_qkv, l.w_o, l.ffn_norm, l.w_gate_up, l.w_down});
    for (const auto& t : {l.qkv_bias, l.o_bias, l.q_norm, l.k_norm}) {
      if (t.defined()) out.push_back(t);
    }
  }
  return out;
}

torch::Tensor LlamaModel::embed(const torch::Tensor& ids) const {
  const auto max_id = ids.numel() > 0 ? ids.max().item<int64_t>() : 0;
  const auto min_id = ids.numel() > 0 ? ids.min().item<int64_t>() : 0;
  if (min_id < 0 || max_id >= config_.vocab_size) {
    throw InvalidArgument("token id " + std::to_string(min_id < 0 ? min_id : max_id) +
                          " is outside the vocabulary (size " + std::to_string(config_.vocab_size) +
                          ")");
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
