#include "lamp/data/json_scanner.h"

#include <cstdint>
#include <cstring>

#include "pplug/error.h"
#include "text/utf8.h"

namespace pplug::lamp::detail {
namespace {

constexpr int kMaxDepth = 512;

// Bytes that end a plain run inside a string: quote, backslash, control, non-ASCII.
struct SpecialTable {
  bool v[256];
  constexpr SpecialTable() : v() {
    for (int c = 0; c < 256; ++c) v[c] = c == '"' || c == '\\' || c < 0x20 || c >= 0x80;
  }
};
constexpr SpecialTable kSpecial;

constexpr uint64_t kOnes = 0x0101010101010101ULL;
constexpr uint64_t kHighs = 0x8080808080808080ULL;

// True when any of the 8 bytes is special (quote, backslash, < 0x20 or >= 0x80).
inline bool word_has_special(uint64_t v) {
  const uint64_t quote = v ^ (kOnes * '"');
  const uint64_t slash = v ^ (kOnes * '\\');
  const uint64_t zero_quote = (quote - kOnes) & ~quote;
  const uint64_t zero_slash = (slash - kOnes) & ~slash;
  const uint64_t below_space = (v - kOnes * 0x20) & ~v;
  return ((zero_quote | zero_slash | below_space) & kHighs) != 0 || (v & kHighs) != 0;
}

}  // namespace

JsonScanner::JsonScanner(std::string_view text, const std::string& source)
    : begin_(text.data()), p_(text.data()), end_(text.data() + text.size()), source_(source) {}

void JsonScanner::fail(const std::string& message) const {
  size_t line = 1;
  const char* line_start = begin_;
  for (const char* q = begin_; q < p_; ++q) {
    if (*q == '\n') {
      ++line;
      line_start = q + 1;
    }
  }
  std::string where = source_ + ": line " + std::to_string(line) + ", column " +
                      std::to_string(p_ - line_start + 1) + ": ";
  if (context_.record >= 0) {
    where += "record " + std::to_string(context_.record);
    if (context_.id != nullptr) where += " (id \"" + *context_.id + "\")";
    if (context_.item >= 0) where += ", profile item " + std::to_string(context_.item);
    if (!context_.field.empty()) where += ", field \"" + std::string(context_.field) + "\"";
    where += ": ";
  } else if (!context_.field.empty()) {
    where += "field \"" + std::string(context_.field) + "\": ";
  }
  throw FormatError(where + message);
}

void JsonScanner::skip_ws() {
  while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
}

char JsonScanner::peek() {
  skip_ws();
  return p_ < end_ ? *p_ : '\0';
}

bool JsonScanner::consume(char c) {
  skip_ws();
  if (p_ < end_ && *p_ == c) {
    ++p_;
    return true;
  }
  return false;
}

void JsonScanner::expect(char c, const char* what) {
  skip_ws();
  if (p_ >= end_) fail(std::string("unexpected end of file, expected ") + what);
  if (*p_ != c) fail(std::string("expected ") + what + ", found '" + std::string(1, *p_) + "'");
  ++p_;
}

void JsonScanner::expect_end() {
  skip_ws();
  if (p_ != end_) fail("unexpected text after the JSON value");
}

const char* JsonScanner::next_type() {
  switch (peek()) {
    case '"':
      return "string";
    case '{':
      return "object";
    case '[':
      return "array";
    case 't':
    case 'f':
      return "boolean";
    case 'n':
      return "null";
    case '\0':
      return "end of file";
    default:
      return "number";
  }
}

char32_t JsonScanner::read_hex4() {
  if (end_ - p_ < 4) fail("truncated \\u escape");
  char32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    const char c = *p_++;
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= c - '0';
    else if (c >= 'a' && c <= 'f')
      v |= c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      v |= c - 'A' + 10;
    else
      fail("invalid \\u escape");
  }
  return v;
}

void JsonScanner::reserve_for_string(std::string& out) const {
  // Find the closing quote (one not escaped by an odd run of backslashes) with memchr, so the
  // string is allocated once instead of growing at every escape.
  const char* q = p_;
  for (;;) {
    q = static_cast<const char*>(std::memchr(q, '"', static_cast<size_t>(end_ - q)));
    if (q == nullptr) return;  // unterminated: the scan below reports it
    const char* b = q;
    while (b > p_ && b[-1] == '\\') --b;
    if ((q - b) % 2 == 0) break;
    ++q;
  }
  out.reserve(static_cast<size_t>(q - p_));
}

void JsonScanner::read_string(std::string& out) {
  skip_ws();
  if (p_ >= end_ || *p_ != '"') fail(std::string("expected a string, found ") + next_type());
  ++p_;
  out.clear();
  reserve_for_string(out);
  const char* run = p_;
  for (;;) {
    while (end_ - p_ >= 8) {
      uint64_t v;
      std::memcpy(&v, p_, 8);
      if (word_has_special(v)) break;
      p_ += 8;
    }
    while (p_ < end_ && !kSpecial.v[static_cast<unsigned char>(*p_)]) ++p_;
    if (p_ >= end_) fail("unterminated string");
    const auto c = static_cast<unsigned char>(*p_);
    if (c == '"') {
      out.append(run, p_);
      ++p_;
      return;
    }
    if (c == '\\') {
      out.append(run, p_);
      ++p_;
      if (p_ >= end_) fail("unterminated string");
      const char e = *p_++;
      switch (e) {
        case '"':
          out.push_back('"');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '/':
          out.push_back('/');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          char32_t cp = read_hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            // A high surrogate must be followed by a low one; a lone one becomes U+FFFD.
            if (end_ - p_ >= 6 && p_[0] == '\\' && p_[1] == 'u') {
              const char* save = p_;
              p_ += 2;
              const char32_t low = read_hex4();
              if (low >= 0xDC00 && low <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
              } else {
                p_ = save;
                cp = 0xFFFD;
              }
            } else {
              cp = 0xFFFD;
            }
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            cp = 0xFFFD;
          }
          pplug::detail::append_utf8(out, cp);
          break;
        }
        default:
          --p_;
          fail(std::string("invalid escape '\\") + e + "' in string");
      }
      run = p_;
      continue;
    }
    if (c < 0x20) fail("unescaped control character in string");
    const size_t n = pplug::detail::utf8_sequence_length(p_, end_);
    if (n == 0) fail("invalid UTF-8 in string");
    p_ += n;
  }
}

void JsonScanner::skip_string() {
  thread_local std::string scratch;
  read_string(scratch);
}

void JsonScanner::skip_number() {
  const char* start = p_;
  auto digit = [&] { return p_ < end_ && *p_ >= '0' && *p_ <= '9'; };
  if (p_ < end_ && *p_ == '-') ++p_;
  if (!digit()) fail("invalid number");
  if (*p_ == '0') {
    ++p_;
    if (digit()) fail("invalid number (leading zero)");
  } else {
    while (digit()) ++p_;
  }
  if (p_ < end_ && *p_ == '.') {
    ++p_;
    if (!digit()) fail("invalid number");
    while (digit()) ++p_;
  }
  if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
    ++p_;
    if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
    if (!digit()) fail("invalid number");
    while (digit()) ++p_;
  }
  if (p_ == start) fail("invalid value");
}

void JsonScanner::skip_literal(const char* word) {
  const size_t n = std::strlen(word);
  if (static_cast<size_t>(end_ - p_) < n || std::memcmp(p_, word, n) != 0) fail("invalid value");
  p_ += n;
}

void JsonScanner::skip_value_at_depth(int depth) {
  if (depth > kMaxDepth) fail("nesting deeper than 512 levels");
  const char c = peek();
  switch (c) {
    case '"':
      skip_string();
      return;
    case 't':
      skip_literal("true");
      return;
    case 'f':
      skip_literal("false");
      return;
    case 'n':
      skip_literal("null");
      return;
    case '[':
      ++p_;
      if (consume(']')) return;
      do {
        skip_value_at_depth(depth + 1);
      } while (consume(','));
      expect(']', "',' or ']'");
      return;
    case '{':
      ++p_;
      if (consume('}')) return;
      do {
        skip_string();
        expect(':', "':'");
        skip_value_at_depth(depth + 1);
      } while (consume(','));
      expect('}', "',' or '}'");
      return;
    case '\0':
      if (p_ >= end_) fail("unexpected end of file, expected a value");
      fail("invalid value");
    default:
      if (c == '-' || (c >= '0' && c <= '9')) {
        skip_number();
        return;
      }
      fail(std::string("invalid value starting with '") + c + "'");
  }
}

void JsonScanner::skip_value() { skip_value_at_depth(0); }

bool JsonScanner::read_value_text(std::string& out) {
  if (peek() == '"') {
    read_string(out);
    return true;
  }
  const char* start = p_;
  skip_value();
  out.assign(start, p_);
  return false;
}

}  // namespace pplug::lamp::detail
