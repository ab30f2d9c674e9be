// llama2.c version-0 checkpoints: 7 int32 header fields, then fp32 tensors (see docs/formats.md).
#include <ATen/ATen.h>

#include <cstring>
#include <fstream>
#include <unordered_map>

#include "pplug/error.h"
#include "pplug/model_io.h"
#include "io/llama2c_probe.h"
#include "util/file_io.h"

namespace pplug {
namespace {

// llama2.c (Meta layout) rotates interleaved pairs (x[2i], x[2i+1]) of each head; HF rotates
// (x[i], x[i + hd/2]). Reordering the output rows of wq/wk converts one layout to the other.
torch::Tensor interleaved_to_halves(const torch::Tensor& w, int64_t heads) {
  const int64_t rows = w.size(0), cols = w.size(1), hd = rows / heads;
  return w.view({heads, hd / 2, 2, cols}).transpose(1, 2).reshape({rows, cols});
}

torch::Tensor halves_to_interleaved(const torch::Tensor& w, int64_t heads) {
  const int64_t rows = w.size(0), cols = w.size(1), hd = rows / heads;
  return w.view({heads, 2, hd / 2, cols}).transpose(1, 2).reshape({rows, cols});
}

}  // namespace

bool detail::is_llama2c_checkpoint(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return false;
  const auto size = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  int32_t h[7];
  if (size < sizeof(h) || !in.read(reinterpret_cast<char*>(h), sizeof(h))) return false;
  for (int i = 0; i < 7; ++i) {
    if (h[i] == 0 || (i != 5 && h[i] < 0) || std::abs(h[i]) > (1 << 24)) return false;
  }
  if (h[3] <= 0 || h[0] % h[3] != 0 || h[4] <= 0) return false;
  const int64_t d = h[0], hidden = h[1], L = h[2], V = std::abs(h[5]), seq = h[6];
  const int64_t kv = d * h[4] / h[3], hd = d / h[3];
  const int64_t floats = V * d + L * d * 2 + 2 * L * d * d + 2 * L * kv * d + 3 * L * hidden * d +
                         d + seq * hd + (h[5] > 0 ? 0 : V * d);
  return size == sizeof(h) + static_cast<uint64_t>(floats) * 4;
}

RawModel read_llama2c(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw FormatError(path + ": cannot open");
  const auto file_size = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  int32_t header[7];
  if (file_size < sizeof(header) || !in.read(reinterpret_cast<char*>(header), sizeof(header))) {
    throw FormatError(path + ": " + std::to_string(file_size) +
                      " bytes, too short for the 28-byte llama2.c header");
  }
  static const char* kFields[7] = {"dim",        "hidden_dim", "n_layers", "n_heads",
                                   "n_kv_heads", "vocab_size", "seq_len"};
  for (int i = 0; i < 7; ++i) {
    if (header[i] == 0 || (i != 5 && header[i] < 0) || std::abs(header[i]) > (1 << 24)) {
      throw FormatError(path + ": header field " + kFields[i] + " = " + std::to_string(header[i]) +
                        " is not a plausible value (not a llama2.c version-0 checkpoint?)");
    }
  }
  LlamaConfig c;
  c.hidden_size = header[0];
  c.intermediate_size = header[1];
  c.num_hidden_layers = header[2];
  c.num_attention_heads = header[3];
  c.num_key_value_heads = header[4];
  c.vocab_size = std::abs(header[5]);
  c.max_position_embeddings = header[6];
  c.tie_word_embeddings = header[5] > 0;
  c.rms_norm_eps = 1e-5;
  c.rope_theta = 10000.0;
  try {
    c.validate(path);
  } catch (const InvalidArgument& e) {
    throw FormatError(e.what());
  }
  const int64_t d = c.hidden_size, L = c.num_hidden_layers, hidden = c.intermediate_size;
  const int64_t kv = c.kv_dim(), V = c.vocab_size, hd = c.head_dim();
  const int64_t seq = c.max_position_embeddings;
  const int64_t floats = V * d + L * d + L * d * d + 2 * L * kv * d + L * d * d + L * d +
                         3 * L * hidden * d + d + seq * hd + (c.tie_word_embeddings ? 0 : V * d);
  const uint64_t expected = sizeof(header) + static_cast<uint64_t>(floats) * 4;
  if (file_size != expected) {
    throw FormatError(path + ": " + std::to_string(file_size) + " bytes, but its header (dim " +
                      std::to_string(d) + ", " + std::to_string(L) + " layers, vocab " +
                      std::to_string(V) + ") requires " + std::to_string(expected) +
                      (file_size < expected ? " (truncated file)" : " (trailing bytes)"));
  }
  auto data = at::empty({floats}, at::kFloat);
  if (!in.read(reinterpret_cast<char*>(data.data_ptr<float>()), floats * 4)) {
    throw FormatError(path + ": read failed");
  }
  int64_t offset = 0;
  auto next = [&](std::vector<int64_t> shape) {
    int64_t n = 1;
    for (auto s : shape) n *= s;
    auto t = data.narrow(0, offset, n).view(shape);
    offset += n;
    return t;
  };
  RawModel raw;
  raw.config = c;
  auto& w = raw.weights;
  w.emplace_back("model.embed_tokens.weight", next({V, d}).clone());
  auto rms_att = next({L, d}), wq = next({L, d, d}), wk = next({L, kv, d}), wv = next({L, kv, d});
  auto wo = next({L, d, d}), rms_ffn = next({L, d}), w1 = next({L, hidden, d});
  auto w2 = next({L, d, hidden}), w3 = next({L, hidden, d}), rms_final = next({d});
  next({seq, hd});  // freq_cis_real and freq_cis_imag (seq, hd/2 each): RoPE is recomputed
  for (int64_t i = 0; i < L; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    w.emplace_back(p + "input_layernorm.weight", rms_att[i].clone());
    w.emplace_back(p + "self_attn.q_proj.weight", interleaved_to_halves(wq[i], c.num_attention_heads));
    w.emplace_back(p + "self_attn.k_proj.weight", interleaved_to_halves(wk[i], c.num_key_value_heads));
    w.emplace_back(p + "self_attn.v_proj.weight", wv[i].clone());
    w.emplace_back(p + "self_attn.o_proj.weight", wo[i].clone());
    w.emplace_back(p + "post_attention_layernorm.weight", rms_ffn[i].clone());
    w.emplace_back(p + "mlp.gate_proj.weight", w1[i].clone());
    w.emplace_back(p + "mlp.down_proj.weight", w2[i].clone());
    w.emplace_back(p + "mlp.up_proj.weight", w3[i].clone());
  }
  w.emplace_back("model.norm.weight", rms_final.clone());
  if (!c.tie_word_embeddings) w.emplace_back("lm_head.weight", next({V, d}).clone());
  return raw;
}

void save_llama2c(const RawModel& model, const std::string& path) {
  const LlamaConfig& c = model.config;
  std::unordered_map<std::string, torch::Tensor> w(model.weights.begin(), model.weights.end());
  auto get = [&](const std::string& name) {
    const auto it = w.find(name);
    if (it == w.end()) throw InvalidArgument("save_llama2c: missing tensor '" + name + "'");
    return it->second.detach().to(at::kFloat).contiguous();
  };
  const int64_t L = c.num_hidden_layers, hd = c.head_dim();
  std::vector<torch::Tensor> parts;
  parts.push_back(get("model.embed_tokens.weight"));
  auto per_layer = [&](const std::string& suffix, int64_t heads) {
    for (int64_t i = 0; i < L; ++i) {
      auto t = get("model.layers." + std::to_string(i) + "." + suffix);
      parts.push_back(heads > 0 ? halves_to_interleaved(t, heads).contiguous() : t);
    }
  };
  per_layer("input_layernorm.weight", 0);
  per_layer("self_attn.q_proj.weight", c.num_attention_heads);
  per_layer("self_attn.k_proj.weight", c.num_key_value_heads);
  per_layer("self_attn.v_proj.weight", 0);
  per_layer("self_attn.o_proj.weight", 0);
  per_layer("post_attention_layernorm.weight", 0);
  per_layer("mlp.gate_proj.weight", 0);
  per_layer("mlp.down_proj.weight", 0);
  per_layer("mlp.up_proj.weight", 0);
  parts.push_back(get("model.norm.weight"));
  // freq_cis tables in llama2.c's own layout (cos and sin of pos * theta^(-2i/hd)).
  auto inv_freq = at::pow(c.rope_theta, -at::arange(0, hd, 2, at::kDouble) / double(hd));
  auto angles = at::outer(at::arange(c.max_position_embeddings, at::kDouble), inv_freq);
  parts.push_back(angles.cos().to(at::kFloat));
  parts.push_back(angles.sin().to(at::kFloat));
  if (!c.tie_word_embeddings) parts.push_back(get("lm_head.weight"));
  const int32_t header[7] = {static_cast<int32_t>(c.hidden_size),
                             static_cast<int32_t>(c.intermediate_size),
                             static_cast<int32_t>(L),
                             static_cast<int32_t>(c.num_attention_heads),
                             static_cast<int32_t>(c.num_key_value_heads),
                             static_cast<int32_t>(c.tie_word_embeddings ? c.vocab_size
                                                                        : -c.vocab_size),
                             static_cast<int32_t>(c.max_position_embeddings)};
  std::string bytes(reinterpret_cast<const char*>(header), sizeof(header));
  for (const auto& t : parts) {
    auto flat = t.contiguous();
    bytes.append(static_cast<const char*>(flat.data_ptr()), flat.numel() * 4);
  }
  detail::write_file_atomic(path, bytes);
}

}  // namespace pplug
