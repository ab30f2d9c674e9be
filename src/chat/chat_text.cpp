#include "chat/chat_text.h"

#include "text/utf8.h"

namespace pplug::detail {
namespace {

bool is_py_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

// The code point of the valid sequence [p, p + n).
char32_t decode(const char* p, size_t n) {
  const auto b = [p](size_t i) { return static_cast<unsigned char>(p[i]); };
  if (n == 1) return b(0);
  if (n == 2) return ((b(0) & 0x1Fu) << 6) | (b(1) & 0x3Fu);
  if (n == 3) return ((b(0) & 0x0Fu) << 12) | ((b(1) & 0x3Fu) << 6) | (b(2) & 0x3Fu);
  return ((b(0) & 0x07u) << 18) | ((b(1) & 0x3Fu) << 12) | ((b(2) & 0x3Fu) << 6) | (b(3) & 0x3Fu);
}

}  // namespace

std::string py_strip(std::string_view s) {
  // Code points are found from the front: a backwards scan could not tell a continuation byte of
  // a non-space character from one of a space. Invalid bytes are kept (never spaces).
  const char* begin = s.data();
  const char* end = begin + s.size();
  size_t first = s.size(), last = 0;  // of the first non-space and past the last one
  for (const char* p = begin; p < end;) {
    size_t n = utf8_sequence_length(p, end);
    const bool space = n != 0 && is_py_space(decode(p, n));
    if (n == 0) n = 1;
    if (!space) {
      if (first == s.size()) first = static_cast<size_t>(p - begin);
      last = static_cast<size_t>(p - begin) + n;
    }
    p += n;
  }
  if (first == s.size()) return {};
  return std::string(s.substr(first, last - first));
}

std::string strip_chars(std::string_view s, std::string_view chars, bool left, bool right) {
  size_t b = 0, e = s.size();
  if (left) {
    while (b < e && chars.find(s[b]) != std::string_view::npos) ++b;
  }
  if (right) {
    while (e > b && chars.find(s[e - 1]) != std::string_view::npos) --e;
  }
  return std::string(s.substr(b, e - b));
}

}  // namespace pplug::detail
