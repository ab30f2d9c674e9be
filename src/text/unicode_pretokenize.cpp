#include "text/unicode_pretokenize.h"

#include "text/unicode_props.h"
#include "text/utf8.h"

namespace pplug::detail::unicode {
namespace {

// Python's str.split() also breaks on the line and paragraph separators, which BERT's cleaning
// step keeps (they are neither Zs nor C*).
bool splits_words(char32_t cp) { return is_bert_whitespace(cp) || cp == 0x2028 || cp == 0x2029; }

// Lowercases and strips accents of one whitespace-delimited word (the uncased normalisation).
std::u32string normalize_uncased(const std::u32string& word) {
  std::u32string lower;
  lower.reserve(word.size());
  for (char32_t cp : word) append_lowercase(cp, lower);
  std::u32string stripped;
  stripped.reserve(lower.size());
  for (char32_t cp : lower) append_accent_stripped(cp, stripped);
  return stripped;
}

// Appends the pieces of `word` split around each punctuation character.
void split_punctuation(const std::u32string& word, std::vector<std::u32string>& out) {
  std::u32string current;
  for (char32_t cp : word) {
    if (is_bert_punctuation(cp)) {
      if (!current.empty()) out.push_back(std::move(current));
      current.clear();
      out.emplace_back(1, cp);
    } else {
      current.push_back(cp);
    }
  }
  if (!current.empty()) out.push_back(std::move(current));
}

}  // namespace

std::vector<std::u32string> bert_basic_tokenize(std::u32string_view text, bool lowercase) {
  // Whitespace-delimited words after cleaning, with each CJK ideograph on its own.
  std::vector<std::u32string> raw;
  std::u32string current;
  const auto flush = [&] {
    if (!current.empty()) raw.push_back(std::move(current));
    current.clear();
  };
  for (char32_t cp : text) {
    if (cp == 0 || cp == kReplacementChar || is_bert_control(cp)) continue;
    if (splits_words(cp)) {
      flush();
    } else if (is_cjk_ideograph(cp)) {
      flush();
      raw.emplace_back(1, cp);
    } else {
      current.push_back(cp);
    }
  }
  flush();

  std::vector<std::u32string> words;
  words.reserve(raw.size());
  for (const std::u32string& word : raw) {
    split_punctuation(lowercase ? normalize_uncased(word) : word, words);
  }
  return words;
}

}  // namespace pplug::detail::unicode
