#include "format/plugin_manifest.h"

#include <limits>
#include <set>

#include "format/json_fields.h"
#include "pplug/error.h"

namespace pplug::detail {
namespace {

using nlohmann::json;

json parse_json(const std::string& text, const std::string& manifest_path) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    throw FormatError(manifest_path + ": not valid JSON: " + e.what());
  }
}

// `section.key` as a string ("" or `fallback` when absent); FormatError when it is another type.
std::string string_field(const json& section, const char* key, const std::string& fallback,
                         const std::string& where, const std::string& manifest_path) {
  if (!section.contains(key)) return fallback;
  const json& v = section[key];
  if (!v.is_string()) {
    throw FormatError(manifest_path + ": field '" + where + "' must be a string, got " +
                      json_shown(v));
  }
  return v.get<std::string>();
}

ManifestSize size_field(const json& section, const char* key) {
  ManifestSize out;
  if (!section.contains(key)) return out;
  const json& v = section[key];
  out.text = json_shown(v);
  if (v.is_number_integer()) out.value = v.get<int64_t>();
  return out;
}

}  // namespace

json plugin_config_to_json(const PluginConfig& c) {
  return {{"task", c.task},
          {"num_persona_tokens", c.num_persona_tokens},
          {"use_persona", c.use_persona},
          {"use_instruction", c.use_instruction},
          {"aggregator", to_string(c.aggregator)},
          {"temperature", c.temperature},
          {"scores", to_string(c.scores)},
          {"top_k", c.top_k},
          {"max_history", c.max_history},
          {"item_template", c.item_template},
          {"answer_prefix", c.answer_prefix},
          {"max_input_tokens", c.max_input_tokens},
          {"placement", to_string(c.placement)},
          {"end_with_eos", c.end_with_eos},
          {"query_source", to_string(c.query_source)},
          {"input_encoder", to_string(c.input_encoder)},
          {"encoder_dim", c.encoder_dim},
          {"llm_dim", c.llm_dim}};
}

PluginConfig plugin_config_from_json(const json& j, const std::string& source) {
  if (!j.is_object()) throw FormatError(source + ": 'config' is not an object");
  static const std::set<std::string> known = {
      "task",         "num_persona_tokens", "use_persona",   "use_instruction",
      "aggregator",   "temperature",        "scores",        "top_k",
      "max_history",  "item_template",      "answer_prefix", "encoder_dim",
      "llm_dim",      "max_input_tokens",   "placement",     "end_with_eos",
      "query_source", "input_encoder"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (known.count(it.key()) == 0) {
      throw FormatError(source + ": unknown field 'config." + it.key() + "'");
    }
  }
  auto need = [&](const char* key) -> const json& {
    if (!j.contains(key)) throw FormatError(source + ": missing field 'config." + key + "'");
    return j[key];
  };
  auto typed = [&](const char* key, bool ok, const char* what) -> const json& {
    const json& v = need(key);
    if (!ok)
      throw FormatError(source + ": field 'config." + key + "' must be " + what + ", got " +
                        json_shown(v));
    return v;
  };
  // An int field: an integer that fits (a larger one must not wrap round to a valid value).
  auto int_field = [&](const char* key) {
    const json& v = need(key);
    const bool fits = v.is_number_unsigned()
                          ? v.get<uint64_t>() <= uint64_t{std::numeric_limits<int>::max()}
                          : v.is_number_integer() &&
                                v.get<int64_t>() >= std::numeric_limits<int>::min() &&
                                v.get<int64_t>() <= std::numeric_limits<int>::max();
    return typed(key, fits, v.is_number_integer() ? "a 32-bit integer" : "an integer").get<int>();
  };
  // An int64 field: an integer below 2^63.
  auto int64_field = [&](const char* key) {
    const json& v = need(key);
    const bool fits = v.is_number_unsigned()
                          ? v.get<uint64_t>() <= uint64_t{std::numeric_limits<int64_t>::max()}
                          : v.is_number_integer();
    return typed(key, fits, v.is_number_integer() ? "a 64-bit integer" : "an integer")
        .get<int64_t>();
  };
  // An enum field: a string its parser knows; the parser's message gains the file and field.
  auto named = [&](const char* key, auto parse) {
    const std::string value =
        typed(key, need(key).is_string(), "a string").template get<std::string>();
    try {
      return parse(value);
    } catch (const InvalidArgument& e) {
      throw FormatError(source + ": field 'config." + key + "': " + e.what());
    }
  };
  PluginConfig c;
  c.task = typed("task", need("task").is_string(), "a string").get<std::string>();
  c.num_persona_tokens = int_field("num_persona_tokens");
  c.use_persona = typed("use_persona", need("use_persona").is_boolean(), "a boolean").get<bool>();
  c.use_instruction =
      typed("use_instruction", need("use_instruction").is_boolean(), "a boolean").get<bool>();
  c.aggregator = named("aggregator", parse_aggregator);
  c.temperature = typed("temperature", need("temperature").is_number(), "a number").get<double>();
  if (j.contains("scores")) c.scores = named("scores", parse_attention_scores);
  c.top_k = int_field("top_k");
  c.max_history = int_field("max_history");
  c.item_template =
      typed("item_template", need("item_template").is_string(), "a string").get<std::string>();
  c.answer_prefix =
      typed("answer_prefix", need("answer_prefix").is_string(), "a string").get<std::string>();
  c.max_input_tokens = int_field("max_input_tokens");
  c.end_with_eos =
      typed("end_with_eos", need("end_with_eos").is_boolean(), "a boolean").get<bool>();
  c.placement = named("placement", parse_placement);
  // Absent from format 2 manifests, which all used the encoder and the adapter.
  if (j.contains("query_source")) c.query_source = named("query_source", parse_query_source);
  if (j.contains("input_encoder")) c.input_encoder = named("input_encoder", parse_input_encoder);
  c.encoder_dim = int64_field("encoder_dim");
  c.llm_dim = int64_field("llm_dim");
  return c;
}

PluginManifest parse_plugin_manifest(const std::string& text, const std::string& manifest_path) {
  const json m = parse_json(text, manifest_path);
  if (!m.is_object() || !m.contains("format") || m["format"] != kPluginFormat) {
    throw FormatError(manifest_path + ": not a pplug plug-in manifest (format != \"" +
                      std::string(kPluginFormat) + "\")");
  }
  const bool version_ok = m.contains("format_version") && m["format_version"].is_number_integer() &&
                          m["format_version"].get<int64_t>() >= kOldestPluginFormatVersion &&
                          m["format_version"].get<int64_t>() <= kPluginFormatVersion;
  if (!version_ok) {
    throw FormatError(
        manifest_path + ": unsupported format_version " +
        (m.contains("format_version") ? json_shown(m["format_version"]) : "(missing)"));
  }
  static const std::set<std::string> known = {
      "format",           "format_version",    "config", "llm", "encoder",
      "soft_token_scale", "plugin_fingerprint"};
  for (auto it = m.begin(); it != m.end(); ++it) {
    if (known.count(it.key()) == 0) {
      throw FormatError(manifest_path + ": unknown top-level field '" + it.key() + "'");
    }
  }
  for (const char* key : {"config", "llm", "encoder"}) {
    if (!m.contains(key) || !m[key].is_object()) {
      throw FormatError(manifest_path + ": missing object field '" + key + "'");
    }
  }
  if (!m.contains("plugin_fingerprint") || !m["plugin_fingerprint"].is_string()) {
    throw FormatError(manifest_path + ": missing string field 'plugin_fingerprint'");
  }
  PluginManifest out;
  out.format_version = static_cast<int>(m["format_version"].get<int64_t>());
  out.config = plugin_config_from_json(m["config"], manifest_path);
  out.plugin_fingerprint = m["plugin_fingerprint"].get<std::string>();
  const json& llm = m["llm"];
  out.llm_fingerprint = string_field(llm, "fingerprint", "", "llm.fingerprint", manifest_path);
  out.llm_hidden_size = size_field(llm, "hidden_size");
  out.llm_num_hidden_layers = size_field(llm, "num_hidden_layers");
  out.llm_vocab_size = size_field(llm, "vocab_size");
  const json& encoder = m["encoder"];
  out.encoder_kind = string_field(encoder, "kind", "?", "encoder.kind", manifest_path);
  out.encoder_fingerprint =
      string_field(encoder, "fingerprint", "", "encoder.fingerprint", manifest_path);
  out.encoder_dim = size_field(encoder, "dim");
  if (encoder.contains("spec") && encoder["spec"].is_string()) {
    out.encoder_spec = encoder["spec"].get<std::string>();
  }
  return out;
}

std::string parse_manifest_encoder_spec(const std::string& text, const std::string& manifest_path) {
  const json m = parse_json(text, manifest_path);
  if (!m.is_object() || !m.contains("encoder") || !m["encoder"].is_object() ||
      !m["encoder"].contains("spec")) {
    return "";
  }
  const json& spec = m["encoder"]["spec"];
  if (!spec.is_string()) {
    throw FormatError(manifest_path + ": field 'encoder.spec' must be a string, got " +
                      json_shown(spec));
  }
  return spec.get<std::string>();
}

}  // namespace pplug::detail
