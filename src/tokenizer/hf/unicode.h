// The Unicode operations of the tokenizer.json pipeline, all backed by ICU: normalization forms,
// per-character lowercasing, and the character classes of Rust's `char` that Hugging Face
// tokenizers relies on (is_whitespace, is_alphanumeric, is_numeric).
#pragma once

#include <string>
#include <string_view>

namespace pplug::hf {

enum class NormalForm { kNfc, kNfd, kNfkc, kNfkd };

// `text` (valid UTF-8) in the given normalization form.
std::string normalize_unicode(std::string_view text, NormalForm form);
// Lowercases each character on its own, with Unicode's full (possibly multi-character) mapping
// and no context rules (Rust's char::to_lowercase, which HF's Lowercase normalizer uses).
std::string lowercase(std::string_view text);

// The Unicode White_Space property.
bool is_whitespace(char32_t cp);
// Alphabetic or a numeric general category (Nd, Nl, No).
bool is_alphanumeric(char32_t cp);
// A numeric general category (Nd, Nl, No).
bool is_numeric(char32_t cp);

}  // namespace pplug::hf
