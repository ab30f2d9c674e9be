#include "pplug/llama_config.h"

#include <nlohmann/json.hpp>

#include "io/json_fields.h"
#include "pplug/error.h"
#include "util/file_io.h"

namespace pplug {
namespace {

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
    throw FormatError(path + ": field '" + field + "' must be an integer, got " + v.dump());
  }
  return v.get<int64_t>();
}

}  // namespace

void LlamaConfig::validate(const std::string& source) const {
  auto positive = [&](int64_t value, const char* field) {
    if (value <= 0) {
      throw InvalidArgument(source + ": " + field + " must be positive, got " +
                            std::to_string(value));
    }
  };
  positive(hidden_size, "hidden_size");
  positive(intermediate_size, "intermediate_size");
  positive(num_hidden_layers, "num_hidden_layers");
  positive(num_attention_heads, "num_attention_heads");
  positive(num_key_value_heads, "num_key_value_heads");
  positive(vocab_size, "vocab_size");
  positive(max_position_embeddings, "max_position_embeddings");
  if (hidden_size % num_attention_heads != 0) {
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
}

LlamaConfig load_llama_config(const std::string& path) {
  const json j = detail::read_json_object(path);
  if (j.contains("model_type") && j["model_type"].is_string() &&
      j["model_type"].get<std::string>() != "llama") {
    throw FormatError(path + ": model_type is '" + j["model_type"].get<std::string>() +
                      "', only 'llama' is supported");
  }
  LlamaConfig c;
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
  if (j.contains("tie_word_embeddings")) {
    if (!j["tie_word_embeddings"].is_boolean()) {
      throw FormatError(path + ": field 'tie_word_embeddings' must be a boolean");
    }
    c.tie_word_embeddings = j["tie_word_embeddings"].get<bool>();
  }
  c.bos_token_id = optional_token_id(j, path, "bos_token_id", 1);
  c.eos_token_id = optional_token_id(j, path, "eos_token_id", 2);
  c.validate(path);
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
            {"hidden_act", "silu"},
            {"torch_dtype", "float32"}};
  detail::write_file_atomic(path, j.dump(2) + "\n");
}

}  // namespace pplug
