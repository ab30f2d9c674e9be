// A minimal forward-only JSON scanner over a contiguous buffer, used by the LaMP readers instead
// of a DOM: it validates the JSON grammar and UTF-8 and hands out strings as it meets them, so a
// file of hundreds of MB is parsed at memory-bandwidth-like speed without an intermediate tree.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace pplug::lamp::detail {

// Where the reader is, for error messages ("record 12 (id "q7"), profile item 3, field "tag"").
struct ScanContext {
  long record = -1;                 // index in the top-level array, -1 outside records
  const std::string* id = nullptr;  // the current record's id once known
  long item = -1;                   // profile item index, -1 outside profiles
  std::string_view field;           // the member being read, empty when none
};

class JsonScanner {
 public:
  // `source` names the text in errors (a path); both must outlive the scanner.
  JsonScanner(std::string_view text, const std::string& source);

  // Skips whitespace and returns the next character without consuming it (0 at the end).
  char peek();
  // Skips whitespace; consumes `c` and returns true when it is next.
  bool consume(char c);
  // Skips whitespace and consumes `c`, or fails with "expected <what>".
  void expect(char c, const char* what);
  // Fails unless only whitespace is left.
  void expect_end();
  // Reads a string (the next value must be one) into `out`, unescaping; lone UTF-16 surrogates
  // escapes become U+FFFD.
  void read_string(std::string& out);
  // Reads any value; a string is unescaped into `out` (returns true), anything else is
  // validated and its raw text copied into `out` (returns false).
  bool read_value_text(std::string& out);
  // Validates and skips any value.
  void skip_value();
  // A short name of the next value's JSON type ("number", "object"...), for error messages.
  const char* next_type();

  const char* cursor() const { return p_; }
  ScanContext& context() { return context_; }
  // Throws FormatError: "<source>: line L, column C: <context>: <message>".
  [[noreturn]] void fail(const std::string& message) const;

 private:
  void skip_ws();
  void reserve_for_string(std::string& out) const;
  void skip_string();
  void skip_number();
  void skip_literal(const char* word);
  void skip_value_at_depth(int depth);
  char32_t read_hex4();

  const char* begin_;
  const char* p_;
  const char* end_;
  const std::string& source_;
  ScanContext context_;
};

}  // namespace pplug::lamp::detail
