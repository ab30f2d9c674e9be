// UTF-8 <-> UTF-32 conversion for the text pipeline. Decoding never fails: an invalid, overlong,
// truncated or surrogate sequence becomes U+FFFD (as Python's errors="replace" does).
#pragma once

#include <string>
#include <string_view>

namespace pplug::detail::unicode {

inline constexpr char32_t kReplacementChar = 0xFFFD;

// Decodes `text`; every maximal invalid subsequence becomes one U+FFFD.
std::u32string decode_utf8(std::string_view text);
// Whether `text` is well-formed UTF-8 (no replacement would be needed).
bool is_valid_utf8(std::string_view text);
// Appends the UTF-8 encoding of `cp` (a Unicode scalar value) to `out`.
void append_utf8(char32_t cp, std::string& out);
std::string encode_utf8(std::u32string_view text);

}  // namespace pplug::detail::unicode
