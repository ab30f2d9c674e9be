#include "pplug/llama_config.h"

#include <nlohmann/json.hpp>

#include <cmath>

#include "format/json_fields.h"
#include "pplug/error.h"
#include "util/file_io.h"

namespace pplug {
namespace {

constexpr const char* kSupportedModelTypes = "llama, mistral, qwen2, qwen3, gemma, phi3";

using detail::optional_int;
using detail::optional_number;
using detail::required_int;
using nlohmann::json;

int64_t optional_token_id(const json& j, const std::string& path, const char* field, int64_t dflt) {
  if (!j.contains(field) || j[field].is_null()) return dflt;
  const auto& v = j[field];
  // Some configs list several EOS ids; the first is the canonical one.
  if (v.is_array() && !v.empty() && v[0].is_number_integer()) return v[0].get<int64_t>();
  if (!v.is_number_integer()) {
    throw FormatError(path + ": field '" + field + "' must be an integer, got " +
                      detail::json_shown(v));
  }
  return v.get<int64_t>();
}

}  // namespace

void LlamaConfig::validate(const std::string& source) const {
  const auto positive = [&](int64_t value, const char* field) {
    detail::require_positive(value, source, field);
  };
  positive(hidden_size, "hidden_size");
  positive(intermediate_size, "intermediate_size");
  positive(num_hidden_layers, "num_hidden_layers");
  positive(num_attention_heads, "num_attention_heads");
  positive(num_key_value_heads, "num_key_value_heads");
  positive(vocab_size, "vocab_size");
  positive(max_position_embeddings, "max_position_embeddings");
  if (explicit_head_dim < 0) {
    throw InvalidArgument(source + ": head_dim must be positive, got " +
                          std::to_string(explicit_head_dim));
  }
  if (!is_supported_model_type(model_type)) {
    throw InvalidArgument(source + ": model_type '" + model_type + "' is not supported (" +
                          kSupportedModelTypes + ")");
  }
  if (hidden_act != "silu" && hidden_act != "gelu_pytorch_tanh" && hidden_act != "gelu") {
    throw InvalidArgument(source + ": hidden_act '" + hidden_act +
                          "' is not supported (silu, gelu_pytorch_tanh, gelu)");
  }
  if (!(embedding_multiplier > 0) || !std::isfinite(embedding_multiplier)) {
    throw InvalidArgument(source + ": embedding_multiplier must be positive and finite, got " +
                          std::to_string(embedding_multiplier));
  }
  if (!rope_scaling_type.empty() && rope_scaling_type != "linear" &&
      rope_scaling_type != "llama3") {
    throw InvalidArgument(source + ": rope_scaling type '" + rope_scaling_type +
                          "' is not supported (linear, llama3)");
  }
  if (!rope_scaling_type.empty() &&
      (!(rope_scaling_factor >= 1.0) || !(rope_high_freq_factor > rope_low_freq_factor) ||
       !(rope_low_freq_factor > 0) || rope_original_max_position_embeddings <= 0)) {
    throw InvalidArgument(source +
                          ": rope_scaling needs factor >= 1, 0 < low_freq_factor < "
                          "high_freq_factor and a positive "
                          "original_max_position_embeddings");
  }
  if (sliding_window < 0) throw InvalidArgument(source + ": sliding_window must not be negative");
  if (explicit_head_dim == 0 && hidden_size % num_attention_heads != 0) {
    throw InvalidArgument(source + ": hidden_size " + std::to_string(hidden_size) +
                          " is not divisible by num_attention_heads " +
                          std::to_string(num_attention_heads));
  }
  if (head_dim() % 2 != 0) {
    throw InvalidArgument(source + ": head dimension " + std::to_string(head_dim()) +
                          " must be even for RoPE");
  }
  if (num_attention_heads % num_key_value_heads != 0) {
    throw InvalidArgument(source + ": num_attention_heads " + std::to_string(num_attention_heads) +
                          " is not a multiple of num_key_value_heads " +
                          std::to_string(num_key_value_heads));
  }
  if (!(rms_norm_eps > 0) || !(rope_theta > 0)) {
    throw InvalidArgument(source + ": rms_norm_eps and rope_theta must be positive");
  }
  if (!rope_freq_factors.empty()) {
    if (static_cast<int64_t>(rope_freq_factors.size()) != head_dim() / 2) {
      throw InvalidArgument(source + ": rope_freq_factors has " +
                            std::to_string(rope_freq_factors.size()) + " entries, expected " +
                            std::to_string(head_dim() / 2) + " (head dimension / 2)");
    }
    for (size_t i = 0; i < rope_freq_factors.size(); ++i) {
      if (!(rope_freq_factors[i] > 0) || !std::isfinite(rope_freq_factors[i])) {
        throw InvalidArgument(source + ": rope_freq_factors[" + std::to_string(i) + "] is " +
                              std::to_string(rope_freq_factors[i]) +
                              "; factors must be positive and finite");
      }
    }
    if (!rope_scaling_type.empty()) {
      throw InvalidArgument(source + ": rope_freq_factors and rope_scaling (" + rope_scaling_type +
                            ") cannot both be given");
    }
  }
}

std::vector<double> LlamaConfig::rope_frequency_divisors() const {
  const int64_t hd = head_dim();
  std::vector<double> out(static_cast<size_t>(hd / 2), 1.0);
  if (!rope_freq_factors.empty()) return {rope_freq_factors.begin(), rope_freq_factors.end()};
  if (rope_scaling_type == "linear") return std::vector<double>(out.size(), rope_scaling_factor);
  if (rope_scaling_type != "llama3") return out;
  // HF's _compute_llama3_parameters: wavelengths shorter than the context / high_freq_factor
  // keep their frequency, longer than context / low_freq_factor are divided by the factor, and
  // those between blend the two.
  const double old_context = static_cast<double>(rope_original_max_position_embeddings);
  const double low_wavelen = old_context / rope_low_freq_factor;
  const double high_wavelen = old_context / rope_high_freq_factor;
  for (size_t i = 0; i < out.size(); ++i) {
    const double freq =
        std::pow(rope_theta, -2.0 * static_cast<double>(i) / static_cast<double>(hd));
    const double wavelen = 2.0 * M_PI / freq;
    if (wavelen < high_wavelen) continue;
    if (wavelen > low_wavelen) {
      out[i] = rope_scaling_factor;
      continue;
    }
    const double smooth = (old_context / wavelen - rope_low_freq_factor) /
                          (rope_high_freq_factor - rope_low_freq_factor);
    out[i] = 1.0 / ((1.0 - smooth) / rope_scaling_factor + smooth);
  }
  return out;
}

void LlamaConfig::set_family_defaults() {
  qkv_bias = model_type == "qwen2";
  o_bias = false;
  qk_norm = model_type == "qwen3";
  hidden_act = model_type == "gemma" ? "gelu_pytorch_tanh" : "silu";
  embedding_multiplier = model_type == "gemma" ? std::sqrt(static_cast<double>(hidden_size)) : 1.0;
  if (model_type == "gemma") tie_word_embeddings = true;
  if (model_type == "phi3")
    tie_word_embeddings = false;  // HF Phi3Config's default; llama.cpp needs the head
}

bool LlamaConfig::is_supported_model_type(const std::string& t) {
  return t == "llama" || t == "mistral" || t == "qwen2" || t == "qwen3" || t == "gemma" ||
         t == "phi3";
}

namespace {

// A boolean field, or `dflt` when absent.
bool optional_bool(const json& j, const std::string& path, const char* field, bool dflt) {
  if (!j.contains(field) || j[field].is_null()) return dflt;
  if (!j[field].is_boolean()) {
    throw FormatError(path + ": field '" + std::string(field) + "' must be a boolean, got " +
                      detail::json_shown(j[field]));
  }
  return j[field].get<bool>();
}

void read_rope_scaling(const json& j, const std::string& path, LlamaConfig& c) {
  if (!j.contains("rope_scaling") || j["rope_scaling"].is_null()) return;
  const json& r = j["rope_scaling"];
  if (!r.is_object()) throw FormatError(path + ": field 'rope_scaling' must be an object or null");
  const char* key = r.contains("rope_type") ? "rope_type" : "type";
  if (!r.contains(key) || !r[key].is_string()) {
    throw FormatError(path + ": rope_scaling needs a string 'rope_type' (or 'type')");
  }
  const std::string type = r[key].get<std::string>();
  if (type == "default") return;
  if (type != "linear" && type != "llama3") {
    throw FormatError(path + ": rope_scaling type '" + type +
                      "' is not supported (linear, llama3)");
  }
  c.rope_scaling_type = type;
  c.rope_scaling_factor = optional_number(r, path, "factor", 1.0);
  if (type == "llama3") {
    c.rope_low_freq_factor = optional_number(r, path, "low_freq_factor", 1.0);
    c.rope_high_freq_factor = optional_number(r, path, "high_freq_factor", 4.0);
    c.rope_original_max_position_embeddings =
        optional_int(r, path, "original_max_position_embeddings", 8192);
  }
}

// The MLP activation: "silu" for every family but Gemma, whose config names it in
// hidden_activation (newer files) or hidden_act. HF falls back to the tanh approximation when
// a Gemma config says only "gelu" (the original release's value, which the model was trained
// with), and so does pplug.
std::string read_activation(const json& j, const std::string& path, const std::string& type) {
  auto text = [&](const char* field) -> std::string {
    if (!j.contains(field) || j[field].is_null()) return "";
    if (!j[field].is_string()) {
      throw FormatError(path + ": field '" + field + "' must be a string, got " +
                        detail::json_shown(j[field]));
    }
    return j[field].get<std::string>();
  };
  if (type != "gemma") {
    const std::string act = text("hidden_act");
    if (!act.empty() && act != "silu") {
      throw FormatError(path + ": hidden_act is '" + act + "'; model_type " + type +
                        " supports only 'silu' (SwiGLU)");
    }
    return "silu";
  }
  std::string act = text("hidden_activation");
  const char* field = "hidden_activation";
  if (act.empty()) {
    act = text("hidden_act");
    field = "hidden_act";
    if (act.empty() || act == "gelu") return "gelu_pytorch_tanh";
  }
  if (act != "gelu_pytorch_tanh" && act != "gelu") {
    throw FormatError(path + ": " + field + " is '" + act +
                      "'; supported for gemma: gelu_pytorch_tanh, gelu");
  }
  return act;
}

}  // namespace

LlamaConfig load_llama_config(const std::string& path) {
  const json j = detail::read_json_object(path);
  LlamaConfig c;
  if (j.contains("model_type")) {
    if (!j["model_type"].is_string())
      throw FormatError(path + ": field 'model_type' must be a string");
    c.model_type = j["model_type"].get<std::string>();
    if (!LlamaConfig::is_supported_model_type(c.model_type)) {
      throw FormatError(path + ": model_type is '" + c.model_type +
                        "'; supported: " + kSupportedModelTypes);
    }
  }
  c.hidden_act = read_activation(j, path, c.model_type);
  if (c.model_type == "phi3" && j.contains("partial_rotary_factor") &&
      !j["partial_rotary_factor"].is_null() &&
      optional_number(j, path, "partial_rotary_factor", 1.0) != 1.0) {
    throw FormatError(path + ": partial_rotary_factor " +
                      detail::json_shown(j["partial_rotary_factor"]) +
                      " is not supported (RoPE over part of each head)");
  }
  if (optional_bool(j, path, "mlp_bias", false)) {
    throw FormatError(path + ": mlp_bias true is not supported");
  }
  c.hidden_size = required_int(j, path, "hidden_size");
  c.intermediate_size = required_int(j, path, "intermediate_size");
  c.num_hidden_layers = required_int(j, path, "num_hidden_layers");
  c.num_attention_heads = required_int(j, path, "num_attention_heads");
  c.num_key_value_heads = j.contains("num_key_value_heads")
                              ? required_int(j, path, "num_key_value_heads")
                              : c.num_attention_heads;
  c.vocab_size = required_int(j, path, "vocab_size");
  c.max_position_embeddings = required_int(j, path, "max_position_embeddings");
  c.rms_norm_eps = optional_number(j, path, "rms_norm_eps", 1e-6);
  c.rope_theta = optional_number(j, path, "rope_theta", 10000.0);
  // Gemma ties its output head unless told otherwise (HF GemmaConfig's default).
  c.tie_word_embeddings = c.model_type == "gemma";
  if (j.contains("tie_word_embeddings")) {
    if (!j["tie_word_embeddings"].is_boolean()) {
      throw FormatError(path + ": field 'tie_word_embeddings' must be a boolean");
    }
    c.tie_word_embeddings = j["tie_word_embeddings"].get<bool>();
  }
  c.bos_token_id = optional_token_id(j, path, "bos_token_id", 1);
  c.eos_token_id = optional_token_id(j, path, "eos_token_id", 2);
  if (j.contains("head_dim") && !j["head_dim"].is_null()) {
    c.explicit_head_dim = required_int(j, path, "head_dim");
  }
  const bool attention_bias = optional_bool(j, path, "attention_bias", false);
  c.qkv_bias = c.model_type == "qwen2" || attention_bias;
  c.o_bias = c.model_type != "qwen2" && attention_bias;
  c.qk_norm = c.model_type == "qwen3";
  read_rope_scaling(j, path, c);
  // Qwen configs carry a sliding_window that only applies with use_sliding_window; Mistral's
  // applies whenever set.
  const bool window_used = c.model_type == "mistral" || c.model_type == "phi3" ||
                           optional_bool(j, path, "use_sliding_window", false);
  if (window_used && j.contains("sliding_window") && !j["sliding_window"].is_null()) {
    c.sliding_window = required_int(j, path, "sliding_window");
  }
  if (c.model_type == "gemma")
    c.embedding_multiplier = std::sqrt(static_cast<double>(c.hidden_size));
  try {
    c.validate(path);
  } catch (const InvalidArgument& e) {
    throw FormatError(e.what());
  }
  return c;
}

void save_llama_config(const LlamaConfig& c, const std::string& path) {
  json j = {{"architectures", {"LlamaForCausalLM"}},
            {"model_type", "llama"},
            {"hidden_size", c.hidden_size},
            {"intermediate_size", c.intermediate_size},
            {"num_hidden_layers", c.num_hidden_layers},
            {"num_attention_heads", c.num_attention_heads},
            {"num_key_value_heads", c.num_key_value_heads},
            {"vocab_size", c.vocab_size},
            {"max_position_embeddings", c.max_position_embeddings},
            {"rms_norm_eps", c.rms_norm_eps},
            {"rope_theta", c.rope_theta},
            {"tie_word_embeddings", c.tie_word_embeddings},
            {"bos_token_id", c.bos_token_id},
            {"eos_token_id", c.eos_token_id},
            {"hidden_act", c.hidden_act},
            {"torch_dtype", "float32"}};
  j["model_type"] = c.model_type;
  j["architectures"] = {c.model_type == "qwen2"     ? "Qwen2ForCausalLM"
                        : c.model_type == "qwen3"   ? "Qwen3ForCausalLM"
                        : c.model_type == "mistral" ? "MistralForCausalLM"
                        : c.model_type == "gemma"   ? "GemmaForCausalLM"
                        : c.model_type == "phi3"    ? "Phi3ForCausalLM"
                                                    : "LlamaForCausalLM"};
  if (c.model_type == "gemma") {
    // HF derives the embedding scale from hidden_size; any other value cannot be written.
    if (std::abs(c.embedding_multiplier - std::sqrt(static_cast<double>(c.hidden_size))) > 1e-9) {
      throw InvalidArgument(path + ": a gemma config with embedding_multiplier " +
                            std::to_string(c.embedding_multiplier) +
                            " (not sqrt(hidden_size)) cannot be written as config.json");
    }
    j["hidden_activation"] = c.hidden_act;
  } else if (c.embedding_multiplier != 1.0 || c.hidden_act != "silu") {
    throw InvalidArgument(path + ": a " + c.model_type + " config with embedding_multiplier " +
                          std::to_string(c.embedding_multiplier) + " and hidden_act " +
                          c.hidden_act + " has no config.json form");
  }
  if (!c.rope_freq_factors.empty()) {
    throw InvalidArgument(path +
                          ": the model's RoPE frequency factors (a GGUF rope_freqs tensor) have "
                          "no config.json form; write it as GGUF");
  }
  if (c.explicit_head_dim > 0) j["head_dim"] = c.explicit_head_dim;
  if (c.model_type != "qwen2") j["attention_bias"] = c.qkv_bias;
  if (c.sliding_window > 0) {
    j["sliding_window"] = c.sliding_window;
    if (c.model_type != "mistral") j["use_sliding_window"] = true;
  }
  if (!c.rope_scaling_type.empty()) {
    json r = {{"rope_type", c.rope_scaling_type}, {"factor", c.rope_scaling_factor}};
    if (c.rope_scaling_type == "llama3") {
      r["low_freq_factor"] = c.rope_low_freq_factor;
      r["high_freq_factor"] = c.rope_high_freq_factor;
      r["original_max_position_embeddings"] = c.rope_original_max_position_embeddings;
    }
    j["rope_scaling"] = r;
  }
  detail::write_file_atomic(path, j.dump(2) + "\n");
}

}  // namespace pplug
