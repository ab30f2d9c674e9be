#include "format/json_fields.h"

#include "pplug/error.h"
#include "util/file_io.h"

namespace pplug::detail {

using nlohmann::json;

namespace {

constexpr int kMaxShownDepth = 32;
constexpr size_t kMaxShownChars = 200;

// Whether `value` nests at most `levels` containers deep (recursion bounded by `levels`).
bool nests_at_most(const json& value, int levels) {
  if (!value.is_structured()) return true;
  if (levels == 0) return false;
  for (const json& child : value) {
    if (!nests_at_most(child, levels - 1)) return false;
  }
  return true;
}

}  // namespace

std::string json_shown(const json& value) {
  if (!nests_at_most(value, kMaxShownDepth)) {
    return std::string(value.is_array() ? "a JSON array of " : "a JSON object of ") +
           std::to_string(value.size()) + (value.is_array() ? " elements" : " members");
  }
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > kMaxShownChars) text = text.substr(0, kMaxShownChars - 3) + "...";
  return text;
}

json read_json_object(const std::string& path) {
  json j;
  try {
    j = json::parse(read_file(path));
  } catch (const json::exception& e) {
    throw FormatError(path + ": not valid JSON: " + e.what());
  }
  if (!j.is_object()) throw FormatError(path + ": top level is not a JSON object");
  return j;
}

void require_positive(int64_t value, const std::string& source, const char* field) {
  if (value <= 0) {
    throw InvalidArgument(source + ": " + field + " must be positive, got " +
                          std::to_string(value));
  }
}

int64_t required_int(const json& j, const std::string& path, const char* field) {
  if (!j.contains(field)) throw FormatError(path + ": missing field '" + field + "'");
  const json& v = j[field];
  if (!v.is_number_integer()) {
    throw FormatError(path + ": field '" + field + "' must be an integer, got " + json_shown(v));
  }
  return v.get<int64_t>();
}

int64_t optional_int(const json& j, const std::string& path, const char* field, int64_t dflt) {
  if (!j.contains(field) || j[field].is_null()) return dflt;
  return required_int(j, path, field);
}

double optional_number(const json& j, const std::string& path, const char* field, double dflt) {
  if (!j.contains(field) || j[field].is_null()) return dflt;
  if (!j[field].is_number()) {
    throw FormatError(path + ": field '" + field + "' must be a number, got " +
                      json_shown(j[field]));
  }
  return j[field].get<double>();
}

}  // namespace pplug::detail
