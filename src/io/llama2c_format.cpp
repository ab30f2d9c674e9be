// llama2.c version-0 checkpoints: 7 int32 header fields, then fp32 tensors (see docs/formats.md).
#include <ATen/ATen.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <unordered_map>

#include "format/llama2c_header.h"
#include "io/llama2c_probe.h"
#include "io/rope_layout.h"
#include "memory/weight_arena.h"
#include "pplug/error.h"
#include "pplug/model_io.h"
#include "util/file_io.h"

namespace pplug {

bool detail::is_llama2c_checkpoint(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return false;
  const auto size = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  std::string prefix(std::min<uint64_t>(size, detail::kLlama2cHeaderBytes), '\0');
  if (!in.read(prefix.data(), static_cast<std::streamsize>(prefix.size()))) return false;
  return detail::looks_like_llama2c(prefix, size);
}

RawModel read_llama2c(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw FormatError(path + ": is a folder, not a llama2.c .bin checkpoint");
  }
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw FormatError(path + ": cannot open");
  const auto file_size = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  std::string prefix(std::min<uint64_t>(file_size, detail::kLlama2cHeaderBytes), '\0');
  if (!in.read(prefix.data(), static_cast<std::streamsize>(prefix.size()))) prefix.clear();
  // Every field, the config and the file size are validated before anything is allocated.
  const detail::Llama2cHeader header = detail::parse_llama2c_header(prefix, file_size, path);
  const LlamaConfig& c = header.config;
  const int64_t d = c.hidden_size, L = c.num_hidden_layers, hidden = c.intermediate_size;
  const int64_t kv = c.kv_dim(), V = c.vocab_size, hd = c.head_dim();
  const int64_t seq = c.max_position_embeddings;
  const int64_t floats = header.floats;
  // Every tensor is read straight into its final place: matrices in a huge-page arena, and the
  // projections LlamaModel fuses (q, k, v and gate, up of a layer) back to back, so a float32
  // model built from this needs no further copy (see docs/formats.md).
  memory::WeightArena arena(static_cast<uint64_t>(floats) * 4);
  auto read_into = [&](const at::Tensor& t) {
    if (!in.read(reinterpret_cast<char*>(t.data_ptr<float>()), t.numel() * 4)) {
      throw FormatError(path + ": read failed");
    }
  };
  auto read_matrix = [&](int64_t rows, int64_t cols) {
    auto t = arena.empty({rows, cols}, at::kFloat);
    read_into(t);
    return t;
  };
  auto read_vectors = [&](int64_t rows, int64_t cols) {
    auto t = at::empty({rows, cols}, at::kFloat);
    read_into(t);
    return t;
  };
  std::vector<at::Tensor> qkv, wo, gate_up, down;
  for (int64_t i = 0; i < L; ++i) {
    qkv.push_back(arena.empty({d + 2 * kv, d}, at::kFloat));
    gate_up.push_back(arena.empty({2 * hidden, d}, at::kFloat));
  }
  auto embed = read_matrix(V, d);
  auto rms_att = read_vectors(L, d);
  auto scratch = at::empty({d, d}, at::kFloat);  // one layer of wq or wk before the permutation
  for (int64_t i = 0; i < L; ++i) {
    read_into(scratch);
    detail::interleaved_to_halves_into(scratch, c.num_attention_heads, qkv[i].narrow(0, 0, d));
  }
  for (int64_t i = 0; i < L; ++i) {
    auto wk = scratch.narrow(0, 0, kv);
    read_into(wk);
    detail::interleaved_to_halves_into(wk, c.num_key_value_heads, qkv[i].narrow(0, d, kv));
  }
  for (int64_t i = 0; i < L; ++i) read_into(qkv[i].narrow(0, d + kv, kv));
  for (int64_t i = 0; i < L; ++i) wo.push_back(read_matrix(d, d));
  auto rms_ffn = read_vectors(L, d);
  for (int64_t i = 0; i < L; ++i) read_into(gate_up[i].narrow(0, 0, hidden));       // w1
  for (int64_t i = 0; i < L; ++i) down.push_back(read_matrix(d, hidden));           // w2
  for (int64_t i = 0; i < L; ++i) read_into(gate_up[i].narrow(0, hidden, hidden));  // w3
  auto rms_final = read_vectors(1, d)[0];
  // freq_cis_real and freq_cis_imag (seq, hd/2 each): RoPE is recomputed.
  in.seekg(static_cast<std::streamoff>(seq * hd * 4), std::ios::cur);
  RawModel raw;
  raw.config = c;
  auto& w = raw.weights;
  w.emplace_back("model.embed_tokens.weight", embed);
  for (int64_t i = 0; i < L; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    w.emplace_back(p + "input_layernorm.weight", rms_att[i].clone());
    w.emplace_back(p + "self_attn.q_proj.weight", qkv[i].narrow(0, 0, d));
    w.emplace_back(p + "self_attn.k_proj.weight", qkv[i].narrow(0, d, kv));
    w.emplace_back(p + "self_attn.v_proj.weight", qkv[i].narrow(0, d + kv, kv));
    w.emplace_back(p + "self_attn.o_proj.weight", wo[i]);
    w.emplace_back(p + "post_attention_layernorm.weight", rms_ffn[i].clone());
    w.emplace_back(p + "mlp.gate_proj.weight", gate_up[i].narrow(0, 0, hidden));
    w.emplace_back(p + "mlp.down_proj.weight", down[i]);
    w.emplace_back(p + "mlp.up_proj.weight", gate_up[i].narrow(0, hidden, hidden));
  }
  w.emplace_back("model.norm.weight", rms_final.clone());
  if (!c.tie_word_embeddings) w.emplace_back("lm_head.weight", read_matrix(V, d));
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
      parts.push_back(heads > 0 ? detail::halves_to_interleaved(t, heads).contiguous() : t);
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
  const int32_t header[7] = {
      static_cast<int32_t>(c.hidden_size),
      static_cast<int32_t>(c.intermediate_size),
      static_cast<int32_t>(L),
      static_cast<int32_t>(c.num_attention_heads),
      static_cast<int32_t>(c.num_key_value_heads),
      static_cast<int32_t>(c.tie_word_embeddings ? c.vocab_size : -c.vocab_size),
      static_cast<int32_t>(c.max_position_embeddings)};
  std::string bytes(reinterpret_cast<const char*>(header), sizeof(header));
  for (const auto& t : parts) {
    auto flat = t.contiguous();
    bytes.append(static_cast<const char*>(flat.data_ptr()), flat.numel() * 4);
  }
  detail::write_file_atomic(path, bytes);
}

}  // namespace pplug
