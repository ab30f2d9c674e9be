// Typed reads of JSON config fields with errors naming the file and the field (config.json of
// HF Llama and BERT folders).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace pplug::detail {

// `value` as JSON text for an error message, cut after 200 characters; a value nested more than
// 32 levels deep is described instead ("a JSON array of N elements"): nlohmann's dump recurses
// once per level, and a file of a few megabytes of '[' would overflow the stack.
std::string json_shown(const nlohmann::json& value);

// Parses `path` as a JSON object; FormatError when it is not valid JSON or not an object.
nlohmann::json read_json_object(const std::string& path);
// An integer field that must be present.
int64_t required_int(const nlohmann::json& j, const std::string& path, const char* field);
// An integer or number field that may be absent or null (then `dflt`).
int64_t optional_int(const nlohmann::json& j, const std::string& path, const char* field,
                     int64_t dflt);
double optional_number(const nlohmann::json& j, const std::string& path, const char* field,
                       double dflt);
// InvalidArgument "<source>: <field> must be positive, got <value>" unless value > 0 (the
// configs' validate()).
void require_positive(int64_t value, const std::string& source, const char* field);

}  // namespace pplug::detail
