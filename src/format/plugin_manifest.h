// A plug-in folder's manifest.json (format "pplug-plugin", versions 2 to 4), parsed and
// validated without libtorch: PersonaPlug::load checks the result against the LLM and encoder
// it is given, then reads plugin.safetensors.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "pplug/plugin_config.h"

namespace pplug::detail {

constexpr const char* kPluginFormat = "pplug-plugin";
// 2: log_gain, placement, end_with_eos, max_input_tokens; 3: query_source and input_encoder
// (2 still loads, as query_source "encoder" and input_encoder "adapter"); 4: scores (2 and 3
// load as "cosine", the only kind they knew).
constexpr int kPluginFormatVersion = 4;
constexpr int kOldestPluginFormatVersion = 2;

// A size the manifest states: its JSON text for messages ("null" when absent) and its value
// when it is an integer.
struct ManifestSize {
  std::string text = "null";
  std::optional<int64_t> value;
};

struct PluginManifest {
  int format_version = 0;
  PluginConfig config;
  std::string plugin_fingerprint;
  std::string llm_fingerprint;  // "" when absent
  ManifestSize llm_hidden_size, llm_num_hidden_layers, llm_vocab_size;
  std::string encoder_kind = "?";   // "?" when absent
  std::string encoder_fingerprint;  // "" when absent
  ManifestSize encoder_dim;
  std::optional<std::string> encoder_spec;  // absent (or not a string: load ignores it)
};

// Parses manifest.json's text; throws FormatError naming `manifest_path` and the field for
// invalid JSON, another format, an unsupported format_version, unknown fields, missing or
// mistyped fields and unknown enum names.
PluginManifest parse_plugin_manifest(const std::string& text, const std::string& manifest_path);

// The "encoder.spec" the manifest records ("" when absent); FormatError for invalid JSON or a
// spec that is not a string.
std::string parse_manifest_encoder_spec(const std::string& text, const std::string& manifest_path);

// The "config" object of a manifest and back; `source` names the file in errors.
nlohmann::json plugin_config_to_json(const PluginConfig& c);
PluginConfig plugin_config_from_json(const nlohmann::json& j, const std::string& source);

}  // namespace pplug::detail
