// JSON string escaping for the LaMP writers (same escapes as nlohmann::json::dump: the short
// forms, \u00XX for other control characters, UTF-8 passed through).
#pragma once

#include <string>
#include <string_view>

namespace pplug::lamp::detail {

// Appends `s` as a quoted JSON string; returns false (leaving `out` partly written) when `s`
// is not valid UTF-8.
bool append_json_string(std::string& out, std::string_view s);

}  // namespace pplug::lamp::detail
