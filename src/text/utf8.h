// UTF-8 for every layer that reads text: validation, decoding one code point at a time, whole
// strings to and from UTF-32, and re-encoding. Used by the LaMP JSON and metrics, WordPiece,
// chat templates and the tokenizer.json pipeline.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace pplug::detail {

inline constexpr char32_t kReplacementChar = 0xFFFD;

// Length of the valid UTF-8 sequence at p (1..4), or 0 when it is not valid: a bad lead or
// continuation byte, an overlong form, a UTF-16 surrogate, a value past U+10FFFF, or a sequence
// cut off by `end`.
size_t utf8_sequence_length(const char* p, const char* end);
// Whether `s` is well-formed UTF-8.
bool is_valid_utf8(std::string_view s);
// Appends the UTF-8 encoding of `cp` (a Unicode scalar value).
void append_utf8(std::string& out, char32_t cp);

// Decodes the code point at `pos` of `text`; `*length` receives its byte length. An invalid
// sequence (see utf8_sequence_length) yields U+FFFD with `*length` 1, so that a caller stepping
// by `*length` resynchronizes on the next byte.
char32_t code_point_at(std::string_view text, std::size_t pos, std::size_t* length);
// The last code point of non-empty valid UTF-8 `text`.
char32_t last_code_point(std::string_view text);

// Decodes `text`; every maximal invalid subsequence becomes one U+FFFD (as Python's
// errors="replace" does), so decoding never fails.
std::u32string decode_utf8(std::string_view text);
std::string encode_utf8(std::u32string_view text);
// `text` with every invalid UTF-8 sequence replaced by U+FFFD (unchanged when valid).
std::string sanitize_utf8(std::string_view text);

}  // namespace pplug::detail
