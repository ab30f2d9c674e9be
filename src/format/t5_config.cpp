#include "pplug/t5_config.h"

#include <nlohmann/json.hpp>

#include "format/json_fields.h"
#include "pplug/error.h"

namespace pplug {
namespace {

using detail::optional_int;
using detail::optional_number;
using detail::required_int;
using nlohmann::json;

}  // namespace

void T5Config::validate(const std::string& source) const {
  const auto positive = [&](int64_t value, const char* field) {
    detail::require_positive(value, source, field);
  };
  positive(d_model, "d_model");
  positive(d_kv, "d_kv");
  positive(d_ff, "d_ff");
  positive(num_layers, "num_layers");
  positive(num_decoder_layers, "num_decoder_layers");
  positive(num_heads, "num_heads");
  positive(vocab_size, "vocab_size");
  // Bidirectional buckets split the range in two halves, each with an exact and a log part, so
  // fewer than 4 buckets leave a half without its exact part (a division by zero in the log).
  if (relative_attention_num_buckets < 4) {
    throw InvalidArgument(source + ": relative_attention_num_buckets must be at least 4, got " +
                          std::to_string(relative_attention_num_buckets));
  }
  // The log part spans max_exact .. max_distance (max_exact = num_buckets / 4 bidirectionally).
  if (relative_attention_max_distance <= relative_attention_num_buckets / 2) {
    throw InvalidArgument(source + ": relative_attention_max_distance " +
                          std::to_string(relative_attention_max_distance) +
                          " must exceed relative_attention_num_buckets / 2 = " +
                          std::to_string(relative_attention_num_buckets / 2));
  }
  if (!(layer_norm_epsilon > 0)) {
    throw InvalidArgument(source + ": layer_norm_epsilon must be positive, got " +
                          std::to_string(layer_norm_epsilon));
  }
  if (feed_forward_proj != "relu" && feed_forward_proj != "gated-gelu") {
    throw InvalidArgument(source + ": feed_forward_proj '" + feed_forward_proj +
                          "' is not supported (relu, gated-gelu)");
  }
  auto token = [&](int64_t id, const char* field) {
    if (id < 0 || id >= vocab_size) {
      throw InvalidArgument(source + ": " + field + " " + std::to_string(id) +
                            " is outside the vocabulary (vocab_size " + std::to_string(vocab_size) +
                            ")");
    }
  };
  token(pad_token_id, "pad_token_id");
  token(eos_token_id, "eos_token_id");
  token(decoder_start_token_id, "decoder_start_token_id");
}

T5Config load_t5_config(const std::string& path) {
  const json j = detail::read_json_object(path);
  if (!j.contains("model_type") || !j["model_type"].is_string() ||
      j["model_type"].get<std::string>() != "t5") {
    throw FormatError(
        path + ": model_type is " +
        (j.contains("model_type") ? detail::json_shown(j["model_type"]) : std::string("absent")) +
        ", expected \"t5\"");
  }
  T5Config c;
  c.d_model = required_int(j, path, "d_model");
  c.d_kv = required_int(j, path, "d_kv");
  c.d_ff = required_int(j, path, "d_ff");
  c.num_layers = required_int(j, path, "num_layers");
  c.num_decoder_layers = optional_int(j, path, "num_decoder_layers", c.num_layers);
  c.num_heads = required_int(j, path, "num_heads");
  c.vocab_size = required_int(j, path, "vocab_size");
  c.relative_attention_num_buckets = optional_int(j, path, "relative_attention_num_buckets", 32);
  c.relative_attention_max_distance = optional_int(j, path, "relative_attention_max_distance", 128);
  c.layer_norm_epsilon = optional_number(j, path, "layer_norm_epsilon", 1e-6);
  if (j.contains("feed_forward_proj") && !j["feed_forward_proj"].is_null()) {
    if (!j["feed_forward_proj"].is_string()) {
      throw FormatError(path + ": field 'feed_forward_proj' must be a string, got " +
                        detail::json_shown(j["feed_forward_proj"]));
    }
    c.feed_forward_proj = j["feed_forward_proj"].get<std::string>();
  }
  if (j.contains("tie_word_embeddings") && !j["tie_word_embeddings"].is_null()) {
    if (!j["tie_word_embeddings"].is_boolean()) {
      throw FormatError(path + ": field 'tie_word_embeddings' must be a boolean, got " +
                        detail::json_shown(j["tie_word_embeddings"]));
    }
    c.tie_word_embeddings = j["tie_word_embeddings"].get<bool>();
  }
  c.pad_token_id = optional_int(j, path, "pad_token_id", 0);
  c.eos_token_id = optional_int(j, path, "eos_token_id", 1);
  // HF's T5 starts decoding with the pad token when the config does not say otherwise.
  c.decoder_start_token_id = optional_int(j, path, "decoder_start_token_id", c.pad_token_id);
  try {
    c.validate(path);
  } catch (const InvalidArgument& e) {
    throw FormatError(e.what());
  }
  return c;
}

}  // namespace pplug
