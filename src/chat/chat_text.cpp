#include "chat/chat_text.h"

#include "text/python_str.h"

namespace pplug::detail {

std::string py_strip(std::string_view s) { return std::string(unicode::py_strip(s)); }

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
