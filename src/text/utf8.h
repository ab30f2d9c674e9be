// UTF-8 primitives shared by the LaMP layer (JSON, metrics), the text layer (WordPiece), chat
// templates and the tokenizer.json pipeline.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace pplug::detail {

// Length of the valid UTF-8 sequence at p (1..4), or 0 when it is not valid: a bad lead or
// continuation byte, an overlong form, a UTF-16 surrogate, a value past U+10FFFF, or a sequence
// cut off by `end`.
size_t utf8_sequence_length(const char* p, const char* end);
// Whether `s` is well-formed UTF-8.
bool is_valid_utf8(std::string_view s);
// Appends the UTF-8 encoding of `cp` (a Unicode scalar value).
void append_utf8(std::string& out, char32_t cp);

}  // namespace pplug::detail
