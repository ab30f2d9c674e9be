// GGUF files of the llama architecture (llama.cpp's layout): reading into a RawModel (HF names
// and RoPE layout), and writing one llama.cpp runs. See docs/formats.md, "GGUF".
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include "format/ggml_dequantize.h"
#include "format/gguf_metadata.h"
#include "format/gguf_writer.h"
#include "io/family_layout.h"
#include "io/gguf_meta_reader.h"
#include "io/rope_layout.h"
#include "kernels/packed_weight.h"
#include "pplug/error.h"
#include "pplug/model_io.h"
#include "tokenizer/gguf_spm_vocab.h"
#include "tokenizer/hf/gguf_hf_vocab_writer.h"
#include "util/file_io.h"

namespace pplug {
namespace {

namespace fs = std::filesystem;
using detail::GgmlType;
using kernels::WeightType;

// A layer tensor's GGUF name suffix and HF name suffix, which RoPE heads permute it (0: none,
// 1: query heads, 2: key/value heads), and whether Phi-3 files hold it inside a fused tensor
// (kPhi3Fused) instead.
struct LayerTensor {
  const char* gguf;
  const char* hf;
  int rope;
  bool fused_in_phi3;
};
constexpr LayerTensor kLayerTensors[] = {
    {"attn_norm.weight", "input_layernorm.weight", 0, false},
    {"attn_q.weight", "self_attn.q_proj.weight", 1, true},
    {"attn_k.weight", "self_attn.k_proj.weight", 2, true},
    {"attn_v.weight", "self_attn.v_proj.weight", 0, true},
    {"attn_output.weight", "self_attn.o_proj.weight", 0, false},
    {"ffn_norm.weight", "post_attention_layernorm.weight", 0, false},
    {"ffn_gate.weight", "mlp.gate_proj.weight", 0, true},
    {"ffn_up.weight", "mlp.up_proj.weight", 0, true},
    {"ffn_down.weight", "mlp.down_proj.weight", 0, false},
};
// Phi-3's fused tensors, named as HF Phi-3 names them (family_layout.h splits them).
constexpr LayerTensor kPhi3Fused[] = {
    {"attn_qkv.weight", "self_attn.qkv_proj.weight", 0, false},
    {"ffn_up.weight", "mlp.gate_up_proj.weight", 0, false},
};

struct NamePair {
  std::string gguf, hf;
  int64_t rope_heads = 0;  // 0: not permuted
};

// The GGUF architecture a config is written as: Qwen2, Qwen3, Gemma and Phi-3 have their own;
// Llama and Mistral are both llama.cpp's "llama".
std::string gguf_architecture(const LlamaConfig& c) {
  return c.model_type == "llama" || c.model_type == "mistral" ? "llama" : c.model_type;
}

std::vector<NamePair> tensor_names(const LlamaConfig& c) {
  // llama.cpp's "llama" architecture rotates interleaved pairs (its converter permutes q/k rows);
  // qwen2/qwen3 use the HF (NeoX) layout as is.
  const bool interleaved = gguf_architecture(c) == "llama";
  std::vector<NamePair> out{{"token_embd.weight", "model.embed_tokens.weight"}};
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string g = "blk." + std::to_string(i) + ".";
    const std::string h = "model.layers." + std::to_string(i) + ".";
    const bool phi3 = c.model_type == "phi3";
    if (phi3) {
      for (const auto& t : kPhi3Fused) out.push_back({g + t.gguf, h + t.hf, 0});
    }
    for (const auto& t : kLayerTensors) {
      if (phi3 && t.fused_in_phi3) continue;
      const int64_t heads = !interleaved  ? 0
                            : t.rope == 1 ? c.num_attention_heads
                            : t.rope == 2 ? c.num_key_value_heads
                                          : 0;
      out.push_back({g + t.gguf, h + t.hf, heads});
    }
    if (c.qkv_bias) {
      // Biases are permuted like the rows they belong to.
      out.push_back({g + "attn_q.bias", h + "self_attn.q_proj.bias",
                     interleaved ? c.num_attention_heads : 0});
      out.push_back({g + "attn_k.bias", h + "self_attn.k_proj.bias",
                     interleaved ? c.num_key_value_heads : 0});
      out.push_back({g + "attn_v.bias", h + "self_attn.v_proj.bias", 0});
    }
    if (c.o_bias) out.push_back({g + "attn_output.bias", h + "self_attn.o_proj.bias", 0});
    if (c.qk_norm) {
      out.push_back({g + "attn_q_norm.weight", h + "self_attn.q_norm.weight", 0});
      out.push_back({g + "attn_k_norm.weight", h + "self_attn.k_norm.weight", 0});
    }
  }
  out.push_back({"output_norm.weight", "model.norm.weight"});
  if (!c.tie_word_embeddings) out.push_back({"output.weight", "lm_head.weight"});
  return out;
}

GgmlType ggml_type_of(WeightType type) {
  switch (type) {
    case WeightType::kF32:
      return GgmlType::kF32;
    case WeightType::kF16:
      return GgmlType::kF16;
    case WeightType::kBF16:
      return GgmlType::kBF16;
    case WeightType::kQ8_0:
      return GgmlType::kQ8_0;
    case WeightType::kQ4_0:
      return GgmlType::kQ4_0;
  }
  return GgmlType::kF32;
}

// llama.cpp's general.file_type (LLAMA_FTYPE_*) of a file whose matrices are `type`.
uint32_t file_type_of(WeightType type) {
  switch (type) {
    case WeightType::kF32:
      return 0;
    case WeightType::kF16:
      return 1;
    case WeightType::kQ4_0:
      return 2;
    case WeightType::kQ8_0:
      return 7;
    case WeightType::kBF16:
      return 32;
  }
  return 0;
}

LlamaConfig config_from(const detail::GgufMetadata& meta) {
  const detail::GgufMetaReader m(meta);
  const std::string arch = m.text("general.architecture");
  if (arch != "llama" && arch != "qwen2" && arch != "qwen3" && arch != "gemma" && arch != "phi3") {
    m.fail("general.architecture",
           "\"" + arch + "\" is not supported (pplug reads llama, qwen2, qwen3, gemma and phi3)");
  }
  const std::string p = arch + ".";
  LlamaConfig c;
  if (const auto* scaling = meta.find(p + "rope.scaling.type")) {
    const bool text = scaling->type == detail::GgufType::kString;
    if (text && scaling->text == "linear") {
      c.rope_scaling_type = "linear";
      c.rope_scaling_factor = m.real(p + "rope.scaling.factor", 1.0);
    } else if (!text || scaling->text != "none") {
      m.fail(p + "rope.scaling.type", "\"" + scaling->text +
                                          "\": only linear RoPE scaling is read (llama3 scaling "
                                          "comes as the rope_freqs tensor)");
    }
  }
  c.hidden_size = m.integer(p + "embedding_length");
  c.intermediate_size = m.integer(p + "feed_forward_length");
  c.num_hidden_layers = m.integer(p + "block_count");
  c.num_attention_heads = m.integer(p + "attention.head_count");
  c.num_key_value_heads = m.integer(p + "attention.head_count_kv", &c.num_attention_heads);
  c.max_position_embeddings = m.integer(p + "context_length");
  c.rms_norm_eps = m.real(p + "attention.layer_norm_rms_epsilon", 1e-5);
  c.rope_theta = m.real(p + "rope.freq_base", 10000.0);
  const int64_t bos = 1, eos = 2;
  c.bos_token_id = m.integer("tokenizer.ggml.bos_token_id", &bos);
  c.eos_token_id = m.integer("tokenizer.ggml.eos_token_id", &eos);
  const auto* embed = meta.find_tensor("token_embd.weight");
  if (embed == nullptr) throw FormatError(meta.path + ": no tensor \"token_embd.weight\"");
  if (embed->shape.size() != 2) {
    throw FormatError(meta.path + ": tensor \"token_embd.weight\" is not a matrix");
  }
  c.vocab_size = embed->shape[0];
  c.tie_word_embeddings = meta.find_tensor("output.weight") == nullptr;
  c.model_type = arch;
  // Qwen3 states its head size; kept only where it differs from hidden_size / heads.
  const int64_t default_head_dim = 0;
  c.explicit_head_dim = m.integer(p + "attention.key_length", &default_head_dim);
  if (c.explicit_head_dim * c.num_attention_heads == c.hidden_size) c.explicit_head_dim = 0;
  c.qkv_bias = arch == "qwen2" || meta.find_tensor("blk.0.attn_q.bias") != nullptr;
  c.o_bias = meta.find_tensor("blk.0.attn_output.bias") != nullptr;
  c.qk_norm = arch == "qwen3";
  if (arch == "gemma") {
    // llama.cpp's gemma: embeddings scaled by sqrt(d), GELU (tanh form), tied output head; the
    // converter already stored its norm weights as 1 + w.
    c.embedding_multiplier = std::sqrt(static_cast<double>(c.hidden_size));
    c.hidden_act = "gelu_pytorch_tanh";
  }
  if (arch == "phi3") {
    const int64_t none = 0;
    c.sliding_window = m.integer(p + "attention.sliding_window", &none);
    if (c.sliding_window >= c.max_position_embeddings) c.sliding_window = 0;
  }
  try {
    c.validate(meta.path);
  } catch (const InvalidArgument& e) {
    throw FormatError(e.what());
  }
  if (c.num_attention_heads > 0) {
    const int64_t hd = c.head_dim();
    if (m.integer(p + "rope.dimension_count", &hd) != hd) {
      m.fail(p + "rope.dimension_count",
             "partial RoPE is not supported (expected the head size " + std::to_string(hd) + ")");
    }
  }
  return c;
}

std::vector<int64_t> expected_shape(const LlamaConfig& c, const std::string& hf) {
  const int64_t d = c.hidden_size, hd = c.head_dim(), hidden = c.intermediate_size;
  auto ends = [&](const char* suffix) {
    const std::string s(suffix);
    return hf.size() >= s.size() && hf.compare(hf.size() - s.size(), s.size(), s) == 0;
  };
  if (ends("qkv_proj.weight")) return {c.q_dim() + 2 * c.kv_dim(), d};
  if (ends("gate_up_proj.weight")) return {2 * hidden, d};
  if (ends("q_norm.weight") || ends("k_norm.weight")) return {hd};
  if (ends("norm.weight") || ends("layernorm.weight")) return {d};
  if (ends("q_proj.bias")) return {c.q_dim()};
  if (ends("k_proj.bias") || ends("v_proj.bias")) return {c.kv_dim()};
  if (ends("o_proj.bias")) return {d};
  if (ends("q_proj.weight")) return {c.num_attention_heads * hd, d};
  if (ends("k_proj.weight") || ends("v_proj.weight")) return {c.kv_dim(), d};
  if (ends("o_proj.weight")) return {d, c.num_attention_heads * hd};
  if (ends("gate_proj.weight") || ends("up_proj.weight")) return {hidden, d};
  if (ends("down_proj.weight")) return {d, hidden};
  return {c.vocab_size, d};  // embed_tokens, lm_head
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

at::Tensor dequantize(const at::Tensor& bytes, WeightType type, int64_t cols) {
  return kernels::PackedWeight{bytes, type, bytes.size(0), cols}.dense(at::kFloat);
}

// A tensor of a type pplug does not compute in (the K-quants, Q4_1, Q5_x: what Q4_K_M files
// hold), expanded row by row to float32 as llama.cpp's dequantizers do and stored as float16:
// every expanded value keeps 11 significant bits, far finer than the 2-6 bit quantization it
// came from, at half of float32's memory.
at::Tensor read_expanded(std::ifstream& in, const std::string& path, const std::string& name,
                         const detail::GgufTensorInfo& t) {
  const int64_t cols = t.shape.back();
  int64_t rows = 1;
  for (size_t i = 0; i + 1 < t.shape.size(); ++i) rows *= t.shape[i];
  const uint64_t row_bytes = detail::ggml_type_bytes(t.type, static_cast<uint64_t>(cols));
  if (row_bytes * static_cast<uint64_t>(rows) != t.bytes) {
    throw FormatError(path + ": tensor \"" + name + "\" (" + detail::ggml_type_name(t.type) +
                      "): rows of " + std::to_string(cols) + " values are not whole blocks");
  }
  std::vector<uint8_t> bytes(static_cast<size_t>(t.bytes));
  in.seekg(static_cast<std::streamoff>(t.offset));
  if (!in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(t.bytes))) {
    throw FormatError(path + ": tensor \"" + name + "\": read failed");
  }
  auto out = at::empty(t.shape, at::kHalf);
  auto* dst = out.data_ptr<at::Half>();
  at::parallel_for(0, rows, 16, [&](int64_t r0, int64_t r1) {
    std::vector<float> row(static_cast<size_t>(cols));
    for (int64_t r = r0; r < r1; ++r) {
      detail::dequantize_ggml_row(t.type, bytes.data() + static_cast<uint64_t>(r) * row_bytes, cols,
                                  row.data());
      for (int64_t c = 0; c < cols; ++c) dst[r * cols + c] = at::Half(row[static_cast<size_t>(c)]);
    }
  });
  return out;
}

constexpr const char* kRopeFreqs = "rope_freqs.weight";

// The rope_freqs tensor llama.cpp's converter writes for Llama 3.1+ (one divisor per rotated
// pair, computed from HF's llama3 rope_scaling). When the divisors are exactly what Llama 3.x's
// published llama3 parameters give (factor = the largest divisor, low/high frequency factors 1
// and 4, an original context of 8192), the config gets those parameters back, so the model
// is the one its HF folder gives, fingerprint included; other divisors are kept as they are.
void read_rope_freqs(const detail::GgufMetadata& meta, const detail::GgufTensorInfo& t,
                     LlamaConfig* c) {
  const int64_t pairs = c->head_dim() / 2;
  if (t.type != static_cast<uint32_t>(GgmlType::kF32) || t.shape != std::vector<int64_t>{pairs}) {
    throw FormatError(meta.path + ": tensor \"" + std::string(kRopeFreqs) + "\" must be F32 of [" +
                      std::to_string(pairs) + "], is " + detail::ggml_type_name(t.type) + " of " +
                      shape_string(t.shape));
  }
  if (!c->rope_scaling_type.empty()) {
    throw FormatError(meta.path + ": both " + gguf_architecture(*c) +
                      ".rope.scaling.type and tensor \"" + kRopeFreqs + "\" scale RoPE");
  }
  std::vector<float> factors(static_cast<size_t>(pairs));
  std::ifstream in(meta.path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(t.offset));
  if (!in.read(reinterpret_cast<char*>(factors.data()), static_cast<std::streamsize>(t.bytes))) {
    throw FormatError(meta.path + ": tensor \"" + std::string(kRopeFreqs) + "\": read failed");
  }
  c->rope_freq_factors = factors;
  try {
    c->validate(meta.path);
  } catch (const InvalidArgument& e) {
    throw FormatError(std::string(e.what()) + " (tensor \"" + kRopeFreqs + "\")");
  }
  LlamaConfig llama3 = *c;
  llama3.rope_freq_factors.clear();
  llama3.rope_scaling_type = "llama3";
  llama3.rope_scaling_factor = *std::max_element(factors.begin(), factors.end());
  llama3.rope_low_freq_factor = 1.0;
  llama3.rope_high_freq_factor = 4.0;
  llama3.rope_original_max_position_embeddings = 8192;
  if (!(llama3.rope_scaling_factor >= 1.0)) return;
  const auto expected = llama3.rope_frequency_divisors();
  for (size_t i = 0; i < factors.size(); ++i) {
    if (std::abs(expected[i] - factors[i]) > 1e-5 * expected[i]) return;
  }
  *c = llama3;
}

}  // namespace

RawModel read_gguf_model(const std::string& path) {
  const auto meta = detail::read_gguf_metadata(path);
  RawModel raw;
  raw.config = config_from(meta);
  if (const auto* freqs = meta.find_tensor(kRopeFreqs)) read_rope_freqs(meta, *freqs, &raw.config);
  const auto names = tensor_names(raw.config);
  std::map<std::string, const NamePair*> wanted;
  for (const auto& n : names) wanted[n.gguf] = &n;
  if (!raw.config.rope_freq_factors.empty() || !raw.config.rope_scaling_type.empty()) {
    wanted[kRopeFreqs] = nullptr;  // read above
  }
  // The block type most layer matrices share is kept as stored; others are dequantized. The
  // type most matrices share is the model's default storage type.
  std::map<WeightType, int> block_counts, type_counts;
  for (const auto& t : meta.tensors) {
    if (wanted.count(t.name) == 0) {
      throw FormatError(path + ": tensor \"" + t.name + "\" is not part of a " +
                        std::to_string(raw.config.num_hidden_layers) +
                        "-layer llama model pplug reads");
    }
    WeightType type;
    if (!detail::weight_type_of(t.type, &type)) {
      if (!detail::can_dequantize_ggml(t.type)) {
        throw FormatError(path + ": tensor \"" + t.name + "\" is stored as " +
                          detail::ggml_type_name(t.type) +
                          ", which pplug does not read (it reads F32, F16, BF16, Q8_0 and Q4_0, "
                          "and expands Q4_1, Q5_0, Q5_1 and Q2_K to Q6_K; re-quantize with "
                          "llama-quantize)");
      }
      type = WeightType::kF16;  // expanded at load and stored so (see read_expanded)
    }
    if (t.shape.size() == 2 && t.name != "token_embd.weight") {
      ++type_counts[type];
      if (kernels::is_block_quantized(type)) ++block_counts[type];
    }
  }
  int most = 0;
  for (const auto& [type, count] : type_counts) {
    if (count > most) {
      // float32 matrices are simply the compute dtype's default
      raw.stored_type = type == WeightType::kF32 ? "" : kernels::weight_type_name(type);
      most = count;
    }
  }
  WeightType kept = WeightType::kF32;
  int best = 0;
  for (const auto& [type, count] : block_counts) {
    if (count > best) kept = type, best = count;
  }
  if (best > 0) raw.quantized_type = kernels::weight_type_name(kept);

  std::ifstream in(path, std::ios::binary);
  if (!in) throw FormatError(path + ": cannot open for reading");
  for (const auto& n : names) {
    const auto* t = meta.find_tensor(n.gguf);
    if (t == nullptr) throw FormatError(path + ": missing tensor \"" + n.gguf + "\"");
    const auto shape = expected_shape(raw.config, n.hf);
    if (t->shape != shape) {
      throw FormatError(path + ": tensor \"" + n.gguf + "\" has shape " + shape_string(t->shape) +
                        ", expected " + shape_string(shape));
    }
    if (detail::can_dequantize_ggml(t->type)) {
      at::Tensor data = read_expanded(in, path, n.gguf, *t);
      if (n.rope_heads > 0) data = detail::interleaved_to_halves(data, n.rope_heads);
      raw.weights.emplace_back(n.hf, data);
      continue;
    }
    WeightType type = WeightType::kF32;
    detail::weight_type_of(t->type, &type);
    const bool block = kernels::is_block_quantized(type);
    if (block && shape.size() != 2) {
      throw FormatError(path + ": tensor \"" + n.gguf + "\" is a vector stored as " +
                        detail::ggml_type_name(t->type));
    }
    at::Tensor data;
    if (block) {
      data = at::empty({shape[0], static_cast<int64_t>(t->bytes) / shape[0]}, at::kByte);
    } else {
      const auto dtype = type == WeightType::kF32   ? at::kFloat
                         : type == WeightType::kF16 ? at::kHalf
                                                    : at::kBFloat16;
      data = at::empty(shape, dtype);
    }
    in.seekg(static_cast<std::streamoff>(t->offset));
    if (!in.read(static_cast<char*>(data.data_ptr()), static_cast<std::streamsize>(t->bytes))) {
      throw FormatError(path + ": tensor \"" + n.gguf + "\": read failed");
    }
    if (block && (type != kept || n.gguf == "token_embd.weight")) {
      data = dequantize(data, type, shape[1]);  // the embedding is looked up in floats
    }
    if (n.rope_heads > 0) data = detail::interleaved_to_halves(data, n.rope_heads);
    raw.weights.emplace_back(n.hf, data);
  }
  detail::split_fused_projections(raw.config, &raw.weights, path);
  return raw;
}

RawModel dequantized(RawModel model) {
  if (model.quantized_type.empty()) return model;
  WeightType type;
  if (!kernels::parse_weight_type(model.quantized_type, &type) ||
      !kernels::is_block_quantized(type)) {
    throw InvalidArgument("RawModel: quantized_type '" + model.quantized_type +
                          "' is not q8_0 or q4_0");
  }
  for (auto& [name, t] : model.weights) {
    if (t.scalar_type() != at::kByte) continue;
    const int64_t block_bytes =
        type == WeightType::kQ8_0 ? kernels::kQ8_0BlockBytes : kernels::kQ4_0BlockBytes;
    t = dequantize(t, type, t.size(1) / block_bytes * kernels::kQuantBlock);
  }
  model.quantized_type.clear();
  if (model.stored_type == kernels::weight_type_name(type)) model.stored_type.clear();
  return model;
}

void save_gguf_model(const RawModel& model_in, const std::string& path,
                     const std::string& weight_type, const std::string& tokenizer_path) {
  WeightType wanted;
  if (!kernels::parse_weight_type(weight_type, &wanted)) {
    throw InvalidArgument("unknown weight type '" + weight_type +
                          "' (expected f32, bf16, f16, q8_0 or q4_0)");
  }
  const auto model = std::make_shared<RawModel>(dequantized(model_in));
  const LlamaConfig& c = model->config;
  c.validate(path);
  const auto fused = detail::fuse_projections(c, model->weights);
  std::map<std::string, at::Tensor> by_name(fused.begin(), fused.end());

  detail::GgufWriter out;
  const std::string arch = gguf_architecture(c);
  // llama3 scaling and explicit factors become llama.cpp's rope_freqs tensor, which only its
  // llama architecture reads.
  const bool rope_freqs = c.rope_scaling_type == "llama3" || !c.rope_freq_factors.empty();
  if (rope_freqs && arch != "llama") {
    throw InvalidArgument(path + ": a " + c.model_type +
                          " model with per-frequency RoPE scaling cannot be written as GGUF "
                          "(llama.cpp reads rope_freqs only for the llama architecture)");
  }
  if (arch == "phi3" && c.tie_word_embeddings) {
    throw InvalidArgument(path +
                          ": llama.cpp's phi3 architecture needs its own output head "
                          "(output.weight); this phi3 model ties it to the embedding");
  }
  if (arch == "gemma" && !c.tie_word_embeddings) {
    throw InvalidArgument(path +
                          ": llama.cpp's gemma architecture has no separate output head; "
                          "this gemma model's is untied");
  }
  out.add_string("general.architecture", arch);
  out.add_string("general.name", fs::path(path).stem().string());
  out.add_uint32("general.file_type", file_type_of(wanted));
  if (kernels::is_block_quantized(wanted)) out.add_uint32("general.quantization_version", 2);
  const std::string p = arch + ".";
  auto u32 = [&](const std::string& key, int64_t v) {
    out.add_uint32(key, static_cast<uint32_t>(v));
  };
  u32(p + "context_length", c.max_position_embeddings);
  u32(p + "embedding_length", c.hidden_size);
  u32(p + "block_count", c.num_hidden_layers);
  u32(p + "feed_forward_length", c.intermediate_size);
  u32(p + "rope.dimension_count", c.head_dim());
  if (c.explicit_head_dim > 0) {
    u32(p + "attention.key_length", c.head_dim());
    u32(p + "attention.value_length", c.head_dim());
  }
  u32(p + "attention.head_count", c.num_attention_heads);
  u32(p + "attention.head_count_kv", c.num_key_value_heads);
  out.add_float32(p + "attention.layer_norm_rms_epsilon", static_cast<float>(c.rms_norm_eps));
  out.add_float32(p + "rope.freq_base", static_cast<float>(c.rope_theta));
  if (c.rope_scaling_type == "linear") {
    out.add_string(p + "rope.scaling.type", "linear");
    out.add_float32(p + "rope.scaling.factor", static_cast<float>(c.rope_scaling_factor));
  }
  if (c.model_type == "phi3") {
    // llama.cpp requires the key for phi3 (a window of the whole context is none).
    u32(p + "attention.sliding_window",
        c.sliding_window > 0 ? c.sliding_window : c.max_position_embeddings);
  }
  u32(p + "vocab_size", c.vocab_size);
  if (!tokenizer_path.empty()) {
    const std::string ext = fs::path(tokenizer_path).extension().string();
    if (ext == ".json" || fs::is_directory(tokenizer_path)) {
      // A byte-level BPE tokenizer.json (a folder: its tokenizer.json). Model rows beyond the
      // token ids (Qwen's 151936 for 151669) become "[PAD<id>]" tokens, as llama.cpp writes
      // them; fewer rows than ids is a MismatchError.
      detail::add_hf_vocab(tokenizer_path, out, c.vocab_size);
    } else {
      // A .model file, or a GGUF whose vocabulary is a SentencePiece one.
      auto spec = detail::is_gguf_file(tokenizer_path)
                      ? detail::spm_model_from_gguf(detail::read_gguf_metadata(tokenizer_path))
                      : detail::parse_spm_model(detail::read_file(tokenizer_path), tokenizer_path);
      if (static_cast<int64_t>(spec.pieces.size()) != c.vocab_size) {
        throw MismatchError(tokenizer_path + ": " + std::to_string(spec.pieces.size()) +
                            " pieces, but the model has vocab_size " +
                            std::to_string(c.vocab_size));
      }
      detail::add_spm_vocab(spec, out);
    }
  }

  for (const auto& n : tensor_names(c)) {
    const auto it = by_name.find(n.hf);
    if (it == by_name.end()) throw FormatError(path + ": the model has no tensor '" + n.hf + "'");
    const auto shape = expected_shape(c, n.hf);
    if (it->second.sizes() != at::IntArrayRef(shape)) {
      throw FormatError("tensor '" + n.hf + "' has shape " +
                        shape_string(it->second.sizes().vec()) + ", expected " +
                        shape_string(shape));
    }
    const WeightType type =
        shape.size() == 1 ? WeightType::kF32 : kernels::storage_type_for(wanted, shape.back());
    int64_t elements = 1;
    for (int64_t s : shape) elements *= s;
    const uint64_t bytes = detail::ggml_type_bytes(static_cast<uint32_t>(ggml_type_of(type)),
                                                   static_cast<uint64_t>(elements));
    const at::Tensor source = it->second;
    const int64_t heads = n.rope_heads;
    out.add_tensor(n.gguf, shape, ggml_type_of(type), bytes, [source, heads, type, shape] {
      at::Tensor t = heads > 0 ? detail::halves_to_interleaved(source, heads) : source;
      at::Tensor stored;
      if (shape.size() == 1) {
        stored = t.to(at::kFloat).contiguous();
      } else {
        stored = kernels::pack_weight(t, type).data.contiguous();
      }
      return std::string(static_cast<const char*>(stored.data_ptr()),
                         static_cast<size_t>(stored.nbytes()));
    });
  }
  if (rope_freqs) {
    const auto divisors = c.rope_frequency_divisors();
    std::string bytes(divisors.size() * sizeof(float), '\0');
    for (size_t i = 0; i < divisors.size(); ++i) {
      const auto f = static_cast<float>(divisors[i]);
      std::memcpy(&bytes[i * sizeof(float)], &f, sizeof(float));
    }
    const auto n = static_cast<int64_t>(divisors.size());
    out.add_tensor(kRopeFreqs, {n}, GgmlType::kF32, bytes.size(), [bytes] { return bytes; });
  }
  out.write(path);
}

}  // namespace pplug
