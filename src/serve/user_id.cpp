#include "serve/user_id.h"

#include "pplug/error.h"

namespace pplug::serve {
namespace {

bool allowed(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// The id quoted for an error message, cut and with unprintable bytes escaped.
std::string quoted(const std::string& id) {
  std::string out = "'";
  for (size_t i = 0; i < id.size() && i < 64; ++i) {
    const auto c = static_cast<unsigned char>(id[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out + (id.size() > 64 ? "...'" : "'");
}

}  // namespace

void validate_user_id(const std::string& id, const std::string& field) {
  const std::string expected =
      ": must be 1 to 128 characters of A-Z a-z 0-9 . _ -, not starting with '.' and without "
      "'..', got ";
  if (id.empty() || id.size() > kMaxUserIdLength || id.front() == '.' ||
      id.find("..") != std::string::npos) {
    throw InvalidArgument(field + expected + quoted(id));
  }
  for (char c : id) {
    if (!allowed(c)) throw InvalidArgument(field + expected + quoted(id));
  }
}

}  // namespace pplug::serve
