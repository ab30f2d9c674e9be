#include "tokenizer/hf/byte_level.h"

#include <array>

#include "text/utf8.h"

namespace pplug::hf {
namespace {

struct ByteTables {
  std::array<std::string, 256> to_char;
  std::array<int, 0x144> to_byte{};
  ByteTables() {
    to_byte.fill(-1);
    int extra = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
      const char32_t cp =
          printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + extra++);
      detail::append_utf8(to_char[b], cp);
      to_byte[cp] = b;
    }
  }
};

const ByteTables& tables() {
  static const ByteTables kTables;
  return kTables;
}

}  // namespace

std::string bytes_to_chars(std::string_view bytes) {
  const ByteTables& t = tables();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) out += t.to_char[static_cast<unsigned char>(c)];
  return out;
}

int char_to_byte(char32_t cp) { return cp < 0x144 ? tables().to_byte[cp] : -1; }

}  // namespace pplug::hf
