// Small Unicode helpers that reproduce Python 3 string semantics on UTF-8 text: str.isspace,
// str.strip(), str.split() and the decimal-digit property used by float().
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "text/utf8.h"

namespace pplug::lamp::detail {

// Decodes the code point at s[i] and advances i past it. Invalid UTF-8 (bad lead or continuation
// byte, overlong form, surrogate, > U+10FFFF, truncated) yields false and advances i by one byte.
bool next_code_point(std::string_view s, size_t& i, char32_t& cp);
using pplug::detail::append_utf8;
using pplug::detail::is_valid_utf8;
using pplug::detail::utf8_sequence_length;

// Python's str.isspace() for one code point (Unicode 14 table, as in CPython 3.11).
bool is_py_space(char32_t cp);
// The decimal value of a Unicode decimal digit (category Nd): 0..9, or -1.
int decimal_value(char32_t cp);

// Python's str.strip() with no argument.
std::string_view py_strip(std::string_view s);
// Python's str.split() with no argument: runs of whitespace separate, no empty pieces.
std::vector<std::string_view> py_split(std::string_view s);

}  // namespace pplug::lamp::detail
