// Typed reads of tokenizer.json fields. Every error is a FormatError naming the file, the JSON
// path of the field (e.g. "model.merges[12]") and the offending value.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace pplug::hf {

using Json = nlohmann::json;

// Where a JSON value sits: the file it came from and its path inside that file.
struct JsonAt {
  const Json& value;
  const std::string& file;
  std::string path;  // "" for the top level

  // The member `key` of this object (a null Json when absent) and its path.
  JsonAt operator[](const char* key) const;
  // The element `index` of this array and its path.
  JsonAt at(std::size_t index) const;
  bool has(const char* key) const;
  // Throws FormatError: "<file>: <path>: <what> (got <value>)".
  [[noreturn]] void fail(const std::string& what) const;

  std::string as_string() const;  // must be a string
  bool as_bool() const;           // must be a boolean
  long long as_int() const;       // must be an integer
  // Optional members: the default when absent or null.
  std::string string_or(const char* key, const std::string& dflt) const;
  bool bool_or(const char* key, bool dflt) const;
  long long int_or(const char* key, long long dflt) const;
  // The "type" member every component object carries.
  std::string type() const;
  void require_object() const;
  void require_array() const;
};

// A short, non-recursive description of a value for error messages.
std::string json_preview(const Json& value);
// Parses JSON text; FormatError naming `file` when it is not valid JSON.
Json parse_json(const std::string& text, const std::string& file);

}  // namespace pplug::hf
