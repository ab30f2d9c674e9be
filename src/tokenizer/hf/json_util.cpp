#include "tokenizer/hf/json_util.h"

#include "pplug/error.h"

namespace pplug::hf {
namespace {

const Json& null_json() {
  static const Json kNull;
  return kNull;
}

}  // namespace

std::string json_preview(const Json& value) {
  if (value.is_array()) return "an array of " + std::to_string(value.size()) + " elements";
  if (value.is_object()) return "an object of " + std::to_string(value.size()) + " members";
  std::string text = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (text.size() > 120) text = text.substr(0, 117) + "...";
  return text;
}

Json parse_json(const std::string& text, const std::string& file) {
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {
    throw FormatError(file + ": not valid JSON: " + e.what());
  }
}

JsonAt JsonAt::operator[](const char* key) const {
  std::string sub = path.empty() ? std::string(key) : path + "." + key;
  if (!value.is_object()) return {null_json(), file, std::move(sub)};
  const auto it = value.find(key);
  return {it == value.end() ? null_json() : *it, file, std::move(sub)};
}

JsonAt JsonAt::at(std::size_t index) const {
  return {value.at(index), file, path + "[" + std::to_string(index) + "]"};
}

bool JsonAt::has(const char* key) const {
  return value.is_object() && value.contains(key) && !value[key].is_null();
}

void JsonAt::fail(const std::string& what) const {
  throw FormatError(file + ": " + (path.empty() ? std::string("top level") : path) + ": " + what +
                    " (got " + json_preview(value) + ")");
}

std::string JsonAt::as_string() const {
  if (!value.is_string()) fail("expected a string");
  return value.get<std::string>();
}

bool JsonAt::as_bool() const {
  if (!value.is_boolean()) fail("expected true or false");
  return value.get<bool>();
}

long long JsonAt::as_int() const {
  if (!value.is_number_integer()) fail("expected an integer");
  if (value.is_number_unsigned() && value.get<unsigned long long>() > (1ULL << 62)) {
    fail("integer out of range");
  }
  return value.get<long long>();
}

std::string JsonAt::string_or(const char* key, const std::string& dflt) const {
  return has(key) ? (*this)[key].as_string() : dflt;
}

bool JsonAt::bool_or(const char* key, bool dflt) const {
  return has(key) ? (*this)[key].as_bool() : dflt;
}

long long JsonAt::int_or(const char* key, long long dflt) const {
  return has(key) ? (*this)[key].as_int() : dflt;
}

std::string JsonAt::type() const {
  require_object();
  if (!has("type")) fail("missing member \"type\"");
  return (*this)["type"].as_string();
}

void JsonAt::require_object() const {
  if (!value.is_object()) fail("expected an object");
}

void JsonAt::require_array() const {
  if (!value.is_array()) fail("expected an array");
}

}  // namespace pplug::hf
