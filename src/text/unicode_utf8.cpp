#include "text/unicode_utf8.h"

#include <cstddef>
#include <cstdint>

namespace pplug::detail::unicode {
namespace {

// Decodes one scalar value starting at text[i]; sets `length` to the bytes consumed (at least 1).
// An ill-formed sequence clears `valid`, consumes its maximal valid prefix and yields U+FFFD.
char32_t decode_one(std::string_view text, std::size_t i, std::size_t& length, bool& valid) {
  const auto byte = [&](std::size_t k) { return static_cast<uint8_t>(text[k]); };
  const uint8_t b0 = byte(i);
  length = 1;
  valid = true;
  if (b0 < 0x80) return b0;
  valid = false;
  int extra = 0;
  char32_t cp = 0;
  // Bounds of the second byte exclude overlong forms, surrogates and values past U+10FFFF.
  uint8_t lo = 0x80;
  uint8_t hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    extra = 1;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    extra = 2;
    cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    extra = 3;
    cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return kReplacementChar;
  }
  for (int k = 1; k <= extra; ++k) {
    if (i + k >= text.size()) return kReplacementChar;
    const uint8_t b = byte(i + k);
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return kReplacementChar;
    cp = (cp << 6) | (b & 0x3F);
    length = k + 1;
  }
  valid = true;
  return cp;
}

}  // namespace

std::u32string decode_utf8(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t length = 1;
    bool valid = true;
    out.push_back(decode_one(text, i, length, valid));
    i += length;
  }
  return out;
}

std::string encode_utf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t cp : text) append_utf8(out, cp);
  return out;
}

}  // namespace pplug::detail::unicode
