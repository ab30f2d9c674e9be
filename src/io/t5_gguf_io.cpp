// GGUF files of llama.cpp's "t5" architecture read into HF-named tensors (docs/formats.md, "T5").
// Names and keys as llama.cpp (c392e5094) defines them in llama-arch.cpp / llama-model.cpp.
#include <ATen/ATen.h>

#include <fstream>
#include <map>

#include "format/gguf_metadata.h"
#include "io/gguf_meta_reader.h"
#include "kernels/packed_weight.h"
#include "pplug/error.h"
#include "pplug/t5_io.h"

namespace pplug {
namespace {

using detail::GgmlType;
using kernels::WeightType;

// llama.cpp hard-codes this (llama_relative_position_bucket); HF's default too.
constexpr int64_t kGgufMaxDistance = 128;

T5Config t5_config_from(const detail::GgufMetadata& meta) {
  const detail::GgufMetaReader m(meta);
  const std::string arch = m.text("general.architecture");
  if (arch != "t5") {
    m.fail("general.architecture", "\"" + arch + "\" is not a T5 model (expected \"t5\")");
  }
  T5Config c;
  c.d_model = m.integer("t5.embedding_length");
  c.d_ff = m.integer("t5.feed_forward_length");
  c.num_layers = m.integer("t5.block_count");
  c.num_decoder_layers = c.num_layers;  // llama.cpp's t5 has one block count for both stacks
  c.num_heads = m.integer("t5.attention.head_count");
  const int64_t heads = c.num_heads;
  if (m.integer("t5.attention.head_count_kv", &heads) != heads) {
    m.fail("t5.attention.head_count_kv", "differs from head_count (T5 has no grouped heads)");
  }
  const int64_t default_dk = c.num_heads > 0 ? c.d_model / c.num_heads : 0;
  c.d_kv = m.integer("t5.attention.key_length", &default_dk);
  if (m.integer("t5.attention.value_length", &c.d_kv) != c.d_kv) {
    m.fail("t5.attention.value_length", "differs from key_length " + std::to_string(c.d_kv));
  }
  c.relative_attention_num_buckets = m.integer("t5.attention.relative_buckets_count");
  c.relative_attention_max_distance = kGgufMaxDistance;
  c.layer_norm_epsilon = m.real("t5.attention.layer_norm_rms_epsilon",
                                m.real("t5.attention.layer_norm_epsilon", 1e-6));
  c.feed_forward_proj =
      meta.find_tensor("enc.blk.0.ffn_gate.weight") != nullptr ? "gated-gelu" : "relu";
  c.tie_word_embeddings = meta.find_tensor("output.weight") == nullptr;
  const auto* embed = meta.find_tensor("token_embd.weight");
  if (embed == nullptr) throw FormatError(meta.path + ": missing tensor \"token_embd.weight\"");
  if (embed->shape.size() != 2) {
    throw FormatError(meta.path + ": tensor \"token_embd.weight\" is not a matrix");
  }
  c.vocab_size = embed->shape[0];
  const int64_t pad = 0, eos = 1;
  c.pad_token_id = m.integer("tokenizer.ggml.padding_token_id", &pad);
  c.eos_token_id = m.integer("tokenizer.ggml.eos_token_id", &eos);
  c.decoder_start_token_id = m.integer("t5.decoder_start_token_id", &c.pad_token_id);
  try {
    c.validate(meta.path);
  } catch (const InvalidArgument& e) {
    throw FormatError(e.what());
  }
  return c;
}

// GGUF name -> HF name of every tensor a model of this config has.
std::map<std::string, std::string> t5_tensor_names(const T5Config& c) {
  std::map<std::string, std::string> out{
      {"token_embd.weight", "shared.weight"},
      {"enc.output_norm.weight", "encoder.final_layer_norm.weight"},
      {"dec.output_norm.weight", "decoder.final_layer_norm.weight"},
      {"enc.blk.0.attn_rel_b.weight",
       "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"},
      {"dec.blk.0.attn_rel_b.weight",
       "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"},
  };
  if (!c.tie_word_embeddings) out["output.weight"] = "lm_head.weight";
  auto ffn = [&](const std::string& g, const std::string& h) {
    if (c.gated()) {
      out[g + "ffn_gate.weight"] = h + "DenseReluDense.wi_0.weight";
      out[g + "ffn_up.weight"] = h + "DenseReluDense.wi_1.weight";
    } else {
      out[g + "ffn_up.weight"] = h + "DenseReluDense.wi.weight";
    }
    out[g + "ffn_down.weight"] = h + "DenseReluDense.wo.weight";
  };
  auto attention = [&](const std::string& g, const std::string& h, const char* prefix,
                       const char* kind) {
    for (const char* m : {"q", "k", "v"}) {
      out[g + prefix + m + ".weight"] = h + kind + "." + m + ".weight";
    }
    out[g + prefix + "o.weight"] = h + kind + ".o.weight";
  };
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const std::string g = "enc.blk." + std::to_string(i) + ".";
    const std::string h = "encoder.block." + std::to_string(i) + ".layer.";
    out[g + "attn_norm.weight"] = h + "0.layer_norm.weight";
    attention(g, h + "0.", "attn_", "SelfAttention");
    out[g + "ffn_norm.weight"] = h + "1.layer_norm.weight";
    ffn(g, h + "1.");
  }
  for (int64_t i = 0; i < c.num_decoder_layers; ++i) {
    const std::string g = "dec.blk." + std::to_string(i) + ".";
    const std::string h = "decoder.block." + std::to_string(i) + ".layer.";
    out[g + "attn_norm.weight"] = h + "0.layer_norm.weight";
    attention(g, h + "0.", "attn_", "SelfAttention");
    out[g + "cross_attn_norm.weight"] = h + "1.layer_norm.weight";
    attention(g, h + "1.", "cross_attn_", "EncDecAttention");
    out[g + "ffn_norm.weight"] = h + "2.layer_norm.weight";
    ffn(g, h + "2.");
  }
  return out;
}

}  // namespace

RawT5Model read_gguf_t5_model(const std::string& path) {
  const auto meta = detail::read_gguf_metadata(path);
  RawT5Model raw;
  raw.config = t5_config_from(meta);
  const auto names = t5_tensor_names(raw.config);
  for (const auto& t : meta.tensors) {
    if (names.count(t.name) == 0) {
      // dec.blk.N.cross_attn_rel_b and attn_rel_b beyond block 0 are among these: HF's T5 has
      // no such tables, so a file holding them is not the model pplug would compute.
      throw FormatError(path + ": tensor \"" + t.name + "\" is not part of a " +
                        std::to_string(raw.config.num_layers) + "-layer " +
                        raw.config.feed_forward_proj + " T5 model pplug reads");
    }
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FormatError(path + ": cannot open for reading");
  for (const auto& [gguf, hf] : names) {
    const auto* t = meta.find_tensor(gguf);
    if (t == nullptr) throw FormatError(path + ": missing tensor \"" + gguf + "\"");
    WeightType type;
    if (!detail::weight_type_of(t->type, &type)) {
      throw FormatError(path + ": tensor \"" + gguf + "\" is stored as " +
                        detail::ggml_type_name(t->type) +
                        ", which pplug does not read (F32, F16, BF16, Q8_0, Q4_0)");
    }
    const bool block = kernels::is_block_quantized(type);
    if (block && t->shape.size() != 2) {
      throw FormatError(path + ": tensor \"" + gguf + "\" is a vector stored as " +
                        detail::ggml_type_name(t->type));
    }
    at::Tensor data;
    if (block) {
      data = at::empty({t->shape[0], static_cast<int64_t>(t->bytes) / t->shape[0]}, at::kByte);
    } else {
      data = at::empty(t->shape, type == WeightType::kF32   ? at::kFloat
                                 : type == WeightType::kF16 ? at::kHalf
                                                            : at::kBFloat16);
    }
    in.seekg(static_cast<std::streamoff>(t->offset));
    if (!in.read(static_cast<char*>(data.data_ptr()), static_cast<std::streamsize>(t->bytes))) {
      throw FormatError(path + ": tensor \"" + gguf + "\": read failed");
    }
    // T5 keeps its weights in the compute dtype: block types are widened once here.
    if (block) data = kernels::PackedWeight{data, type, t->shape[0], t->shape[1]}.dense(at::kFloat);
    raw.weights.emplace_back(hf, data);
  }
  return raw;
}

}  // namespace pplug
