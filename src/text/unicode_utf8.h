// UTF-8 <-> UTF-32 conversion for the text pipeline. Decoding never fails: an invalid, overlong,
// truncated or surrogate sequence becomes U+FFFD (as Python's errors="replace" does).
#pragma once

#include <string>
#include <string_view>

#include "text/utf8.h"

namespace pplug::detail::unicode {

inline constexpr char32_t kReplacementChar = 0xFFFD;

// Decodes `text`; every maximal invalid subsequence becomes one U+FFFD.
std::u32string decode_utf8(std::string_view text);
// is_valid_utf8 and append_utf8: util/utf8.h.
std::string encode_utf8(std::u32string_view text);

}  // namespace pplug::detail::unicode
