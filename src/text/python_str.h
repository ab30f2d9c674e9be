// Small Unicode helpers that reproduce Python 3 string semantics on UTF-8 text: str.isspace,
// str.strip(), str.split() and the decimal-digit property used by float(). Invalid UTF-8 counts as
// non-space (it decodes to U+FFFD).
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace pplug::detail::unicode {

// Python's str.isspace() for one code point (Unicode 14 table, as in CPython 3.11).
bool is_py_space(char32_t cp);
// The decimal value of a Unicode decimal digit (category Nd): 0..9, or -1.
int decimal_value(char32_t cp);

// Python's str.strip() with no argument.
std::string_view py_strip(std::string_view s);
// Python's str.split() with no argument: runs of whitespace separate, no empty pieces.
std::vector<std::string_view> py_split(std::string_view s);

}  // namespace pplug::detail::unicode
