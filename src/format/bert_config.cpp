#include "format/bert_config.h"

#include <nlohmann/json.hpp>

#include "format/json_fields.h"
#include "pplug/error.h"
#include "util/file_io.h"

namespace pplug::bert {
namespace {

using detail::optional_int;
using detail::optional_number;
using detail::required_int;
using nlohmann::json;

// A string field that, when present, must equal one of `allowed`.
std::string optional_choice(const json& j, const std::string& path, const char* field,
                            const std::string& dflt, std::initializer_list<const char*> allowed) {
  if (!j.contains(field) || j[field].is_null()) return dflt;
  if (!j[field].is_string()) {
    throw FormatError(path + ": field '" + field + "' must be a string, got " +
                      detail::json_shown(j[field]));
  }
  std::string value = j[field].get<std::string>();
  std::string expected;
  for (const char* a : allowed) {
    if (value == a) return value;
    expected += std::string(expected.empty() ? "" : " or ") + "'" + a + "'";
  }
  throw FormatError(path + ": field '" + field + "' is '" + value + "', expected " + expected);
}

}  // namespace

void BertConfig::validate(const std::string& source) const {
  const auto positive = [&](int64_t value, const char* field) {
    detail::require_positive(value, source, field);
  };
  positive(vocab_size, "vocab_size");
  positive(hidden_size, "hidden_size");
  positive(num_hidden_layers, "num_hidden_layers");
  positive(num_attention_heads, "num_attention_heads");
  positive(intermediate_size, "intermediate_size");
  positive(max_position_embeddings, "max_position_embeddings");
  positive(type_vocab_size, "type_vocab_size");
  if (hidden_size % num_attention_heads != 0) {
    throw InvalidArgument(source + ": hidden_size " + std::to_string(hidden_size) +
                          " is not divisible by num_attention_heads " +
                          std::to_string(num_attention_heads));
  }
  if (!(layer_norm_eps > 0)) throw InvalidArgument(source + ": layer_norm_eps must be positive");
  const auto probability = [&](double p, const char* field) {
    if (!(p >= 0 && p < 1)) {
      throw InvalidArgument(source + ": " + field + " must be in [0, 1), got " + std::to_string(p));
    }
  };
  probability(hidden_dropout_prob, "hidden_dropout_prob");
  probability(attention_probs_dropout_prob, "attention_probs_dropout_prob");
  if (hidden_act != "gelu") {
    throw InvalidArgument(source + ": hidden_act '" + hidden_act + "' is not supported (gelu)");
  }
}

BertConfig load_bert_config(const std::string& path) {
  const json j = detail::read_json_object(path);
  optional_choice(j, path, "model_type", "bert", {"bert"});
  optional_choice(j, path, "position_embedding_type", "absolute", {"absolute"});
  BertConfig c;
  c.vocab_size = required_int(j, path, "vocab_size");
  c.hidden_size = required_int(j, path, "hidden_size");
  c.num_hidden_layers = required_int(j, path, "num_hidden_layers");
  c.num_attention_heads = required_int(j, path, "num_attention_heads");
  c.intermediate_size = required_int(j, path, "intermediate_size");
  c.max_position_embeddings = required_int(j, path, "max_position_embeddings");
  c.type_vocab_size = optional_int(j, path, "type_vocab_size", c.type_vocab_size);
  c.layer_norm_eps = optional_number(j, path, "layer_norm_eps", c.layer_norm_eps);
  c.hidden_dropout_prob = optional_number(j, path, "hidden_dropout_prob", c.hidden_dropout_prob);
  c.attention_probs_dropout_prob =
      optional_number(j, path, "attention_probs_dropout_prob", c.attention_probs_dropout_prob);
  c.hidden_act = optional_choice(j, path, "hidden_act", c.hidden_act, {"gelu"});
  try {
    c.validate(path);
  } catch (const InvalidArgument& e) {
    throw FormatError(e.what());  // a bad value in a file is a format problem of that file
  }
  return c;
}

void save_bert_config(const BertConfig& c, const std::string& path) {
  c.validate(path);
  const json j = {
      {"architectures", {"BertModel"}},
      {"model_type", "bert"},
      {"vocab_size", c.vocab_size},
      {"hidden_size", c.hidden_size},
      {"num_hidden_layers", c.num_hidden_layers},
      {"num_attention_heads", c.num_attention_heads},
      {"intermediate_size", c.intermediate_size},
      {"max_position_embeddings", c.max_position_embeddings},
      {"type_vocab_size", c.type_vocab_size},
      {"layer_norm_eps", c.layer_norm_eps},
      {"hidden_dropout_prob", c.hidden_dropout_prob},
      {"attention_probs_dropout_prob", c.attention_probs_dropout_prob},
      {"hidden_act", c.hidden_act},
      {"position_embedding_type", "absolute"},
      {"pad_token_id", 0},
  };
  detail::write_file_atomic(path, j.dump(2) + "\n");
}

}  // namespace pplug::bert
