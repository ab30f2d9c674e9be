// A client's JSON value quoted in an error message: short, and never dumped whole (a deeply
// nested array would overflow the stack of a recursive dump; a huge one would be copied).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace pplug::serve {

// Scalars as JSON text (strings cut to 60 characters, invalid UTF-8 replaced); arrays and
// objects as "a JSON array of N elements" / "a JSON object of N members".
std::string json_excerpt(const nlohmann::json& value);

}  // namespace pplug::serve
