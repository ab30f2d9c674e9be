#include "text/python_str.h"

#include <algorithm>
#include <iterator>

#include "text/utf8.h"

namespace pplug::detail::unicode {
namespace {

// The zero of every run of Unicode decimal digits outside ASCII (each run is zero..zero+9).
// Generated from Python 3.11's unicodedata (Unicode 14.0).
constexpr char32_t kDigitZeros[] = {
    0x660,   0x6f0,   0x7c0,   0x966,   0x9e6,   0xa66,   0xae6,   0xb66,   0xbe6,   0xc66,
    0xce6,   0xd66,   0xde6,   0xe50,   0xed0,   0xf20,   0x1040,  0x1090,  0x17e0,  0x1810,
    0x1946,  0x19d0,  0x1a80,  0x1a90,  0x1b50,  0x1bb0,  0x1c40,  0x1c50,  0xa620,  0xa8d0,
    0xa900,  0xa9d0,  0xa9f0,  0xaa50,  0xabf0,  0xff10,  0x104a0, 0x10d30, 0x11066, 0x110f0,
    0x11136, 0x111d0, 0x112f0, 0x11450, 0x114d0, 0x11650, 0x116c0, 0x11730, 0x118e0, 0x11950,
    0x11c50, 0x11d50, 0x11da0, 0x16a60, 0x16ac0, 0x16b50, 0x1d7ce, 0x1d7d8, 0x1d7e2, 0x1d7ec,
    0x1d7f6, 0x1e140, 0x1e2f0, 0x1e950, 0x1fbf0};

}  // namespace

bool is_py_space(char32_t cp) {
  if (cp < 0x80) return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20);
  switch (cp) {
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

int decimal_value(char32_t cp) {
  if (cp >= '0' && cp <= '9') return static_cast<int>(cp - '0');
  if (cp < 0x660) return -1;
  const auto* it = std::upper_bound(std::begin(kDigitZeros), std::end(kDigitZeros), cp);
  if (it == std::begin(kDigitZeros)) return -1;
  const char32_t zero = *(it - 1);
  return cp - zero < 10 ? static_cast<int>(cp - zero) : -1;
}

std::string_view py_strip(std::string_view s) {
  size_t begin = 0;
  while (begin < s.size()) {
    size_t length = 0;
    if (!is_py_space(code_point_at(s, begin, &length))) break;
    begin += length;
  }
  size_t end = s.size();
  while (end > begin) {
    // Step back to the start of the last code point.
    size_t start = end - 1;
    while (start > begin && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    size_t length = 0;
    const char32_t cp = code_point_at(s, start, &length);
    if (start + length != end || !is_py_space(cp)) break;
    end = start;
  }
  return s.substr(begin, end - begin);
}

std::vector<std::string_view> py_split(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  size_t word = std::string_view::npos;
  while (i < s.size()) {
    const size_t here = i;
    char32_t cp;
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      cp = static_cast<unsigned char>(s[i++]);  // ASCII fast path
    } else {
      size_t length = 0;
      cp = code_point_at(s, i, &length);
      i += length;
    }
    if (is_py_space(cp)) {
      if (word != std::string_view::npos) out.push_back(s.substr(word, here - word));
      word = std::string_view::npos;
    } else if (word == std::string_view::npos) {
      word = here;
    }
  }
  if (word != std::string_view::npos) out.push_back(s.substr(word));
  return out;
}

}  // namespace pplug::detail::unicode
