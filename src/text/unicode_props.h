// Character classes and per-character mappings of the BERT basic tokenizer, with the exact
// definitions of Hugging Face's BertTokenizer (tokenization_bert.py), which are not the plain
// Unicode ones: "whitespace" and "control" overlap on \t \n \r, punctuation includes the ASCII
// symbols ($, +, <, ^, ` ...), and "CJK" means the CJK Unified Ideographs blocks only.
#pragma once

#include <string>

namespace pplug::detail::unicode {

// ' ', \t, \n, \r, or general category Zs.
bool is_bert_whitespace(char32_t cp);
// General category Cc, Cf or Co, except \t, \n, \r. (Python also counts unassigned code points
// (Cn); they are kept here, since which ones are unassigned depends on the Unicode version.)
bool is_bert_control(char32_t cp);
// ASCII 33-47, 58-64, 91-96, 123-126, or general category P*.
bool is_bert_punctuation(char32_t cp);
// CJK Unified Ideographs (and extensions A-E), compatibility ideographs and their supplement.
bool is_cjk_ideograph(char32_t cp);
// General category Mn (non-spacing combining marks).
bool is_nonspacing_mark(char32_t cp);
// Appends the lowercase of `cp` as Python's str.lower() gives it for the single code point
// (U+0130 becomes "i" + U+0307; no context rules).
void append_lowercase(char32_t cp, std::u32string& out);
// Appends the NFD decomposition of `cp` without its Mn marks (nothing when `cp` is itself Mn).
void append_accent_stripped(char32_t cp, std::u32string& out);

}  // namespace pplug::detail::unicode
