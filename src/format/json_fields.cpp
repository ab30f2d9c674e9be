#include "format/json_fields.h"

#include "pplug/error.h"
#include "util/file_io.h"

namespace pplug::detail {

using nlohmann::json;

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
    throw FormatError(path + ": field '" + field + "' must be an integer, got " + v.dump());
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
    throw FormatError(path + ": field '" + field + "' must be a number, got " + j[field].dump());
  }
  return j[field].get<double>();
}

}  // namespace pplug::detail
