// The "basic tokenizer" step of BERT: text -> words, before WordPiece. It follows Hugging Face's
// BertTokenizer (BasicTokenizer with tokenize_chinese_chars=True): drop NUL, U+FFFD and control
// characters; split on whitespace; make every CJK ideograph a word of its own; when lowercasing,
// lowercase and strip accents (NFD, then drop Mn marks); split off every punctuation character.
// Difference: without lowercasing, HF applies NFC first; this does not (text is used as given).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pplug::detail::unicode {

std::vector<std::u32string> bert_basic_tokenize(std::u32string_view text, bool lowercase);

}  // namespace pplug::detail::unicode
