// Python's string trimming as the chat templates use it (Jinja's `trim` filter is str.strip()),
// on UTF-8 text.
#pragma once

#include <string>
#include <string_view>

namespace pplug::detail {

// str.strip(): removes leading and trailing characters that Python's str.isspace() accepts
// (text/python_str.h), as a string to concatenate.
std::string py_strip(std::string_view s);
// str.strip(chars) / lstrip(chars) / rstrip(chars) for ASCII `chars`.
std::string strip_chars(std::string_view s, std::string_view chars, bool left, bool right);

}  // namespace pplug::detail
