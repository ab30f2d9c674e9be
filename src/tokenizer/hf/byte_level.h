// GPT-2's reversible byte-to-character map (ByteLevel pre-tokenizer and decoder): printable
// Latin-1 bytes stand for themselves, the other 68 bytes for U+0100..U+0143.
#pragma once

#include <string>
#include <string_view>

namespace pplug::hf {

// `bytes` with every byte replaced by its character (UTF-8).
std::string bytes_to_chars(std::string_view bytes);
// The byte a character stands for, or -1 when it is not one of the 256 characters.
int char_to_byte(char32_t cp);

}  // namespace pplug::hf
