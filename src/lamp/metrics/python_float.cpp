// Python's float(str.strip(s)), as the LaMP-3 scorer applies it to predictions and golds.
#include <clocale>
#include <cmath>
#include <cstdlib>

#include "pplug/lamp_metrics.h"
#include "text/python_str.h"
#include "text/utf8.h"

namespace pplug::lamp {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool iequals(std::string_view s, std::string_view lower_word) {
  if (s.size() != lower_word.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower_word[i]) return false;
  }
  return true;
}

// CPython's _PyUnicode_TransformDecimalAndSpaceToASCII: code points below 127 are kept,
// Unicode spaces become ' ', Unicode decimal digits become '0'..'9', anything else is invalid.
bool to_ascii(std::string_view s, std::string& out) {
  size_t i = 0;
  while (i < s.size()) {
    // Invalid UTF-8 decodes to U+FFFD, which is neither a space nor a digit: rejected below.
    size_t length = 0;
    const char32_t cp = pplug::detail::code_point_at(s, i, &length);
    i += length;
    if (cp < 127) {
      out.push_back(static_cast<char>(cp));
    } else if (pplug::detail::unicode::is_py_space(cp)) {
      out.push_back(' ');
    } else {
      const int d = pplug::detail::unicode::decimal_value(cp);
      if (d < 0) return false;
      out.push_back(static_cast<char>('0' + d));
    }
  }
  return true;
}

// CPython's _Py_string_to_number_with_underscores: an underscore must sit between two digits.
bool remove_underscores(std::string& s) {
  if (s.find('_') == std::string::npos) return true;
  std::string out;
  char prev = '\0';
  for (const char c : s) {
    if (c == '_') {
      if (!is_digit(prev)) return false;
    } else {
      if (prev == '_' && !is_digit(c)) return false;
      out.push_back(c);
    }
    prev = c;
  }
  if (prev == '_') return false;
  s = std::move(out);
  return true;
}

// Python's dtoa grammar, whole string: [+-]? (digits [. digits*] | . digits) ([eE] [+-]? digits)?
bool is_decimal_literal(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t mantissa_digits = 0;
  while (i < s.size() && is_digit(s[i])) ++i, ++mantissa_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_digit(s[i])) ++i, ++mantissa_digits;
  }
  if (mantissa_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t exponent_digits = 0;
    while (i < s.size() && is_digit(s[i])) ++i, ++exponent_digits;
    if (exponent_digits == 0) return false;
  }
  return i == s.size();
}

locale_t c_locale() {
  static const locale_t loc = ::newlocale(LC_ALL_MASK, "C", static_cast<locale_t>(nullptr));
  return loc;
}

}  // namespace

std::optional<double> parse_python_float(std::string_view text) {
  std::string s;
  if (!to_ascii(pplug::detail::unicode::py_strip(text), s)) return std::nullopt;
  if (!remove_underscores(s)) return std::nullopt;
  // float() strips ASCII whitespace once more; after str.strip() only interior spaces can remain,
  // and those make the literal invalid below.
  std::string_view body = s;
  bool negative = false;
  std::string_view unsigned_part = body;
  if (!unsigned_part.empty() && (unsigned_part[0] == '+' || unsigned_part[0] == '-')) {
    negative = unsigned_part[0] == '-';
    unsigned_part.remove_prefix(1);
  }
  if (iequals(unsigned_part, "inf") || iequals(unsigned_part, "infinity")) {
    return negative ? -HUGE_VAL : HUGE_VAL;
  }
  if (iequals(unsigned_part, "nan")) return negative ? -std::abs(NAN) : std::abs(NAN);
  if (!is_decimal_literal(body)) return std::nullopt;
  // Correctly rounded like Python's dtoa; overflow gives +-inf and underflow 0, as in Python.
  return ::strtod_l(s.c_str(), nullptr, c_locale());
}

}  // namespace pplug::lamp
