#include "tokenizer/hf/added_tokens.h"

#include "text/utf8.h"
#include "tokenizer/hf/unicode.h"

namespace pplug::hf {
namespace {

bool ends_with_word(std::string_view text) {
  return !text.empty() && is_alphanumeric(detail::last_code_point(text));
}

bool starts_with_word(std::string_view text) {
  if (text.empty()) return false;
  std::size_t length = 0;
  return is_alphanumeric(detail::code_point_at(text, 0, &length));
}

// Bytes of whitespace at the end / start of `text`.
std::size_t trailing_space(std::string_view text) {
  std::size_t end = text.size();
  while (end > 0) {
    std::size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
    std::size_t length = 0;
    if (!is_whitespace(detail::code_point_at(text, start, &length))) break;
    end = start;
  }
  return text.size() - end;
}

std::size_t leading_space(std::string_view text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t length = 0;
    if (!is_whitespace(detail::code_point_at(text, pos, &length))) break;
    pos += length;
  }
  return pos;
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(std::vector<AddedToken> tokens,
                                     std::vector<std::string> patterns)
    : tokens_(std::move(tokens)) {
  trie_.emplace_back();
  for (std::size_t t = 0; t < tokens_.size(); ++t) {
    const std::string& pattern = patterns[t];
    if (pattern.empty()) continue;
    int node = 0;
    for (char c : pattern) {
      const auto byte = static_cast<unsigned char>(c);
      const auto it = trie_[static_cast<std::size_t>(node)].next.find(byte);
      if (it != trie_[static_cast<std::size_t>(node)].next.end()) {
        node = it->second;
      } else {
        const int fresh = static_cast<int>(trie_.size());
        trie_[static_cast<std::size_t>(node)].next.emplace(byte, fresh);
        trie_.emplace_back();
        node = fresh;
      }
    }
    // The first token wins when two share a pattern.
    if (trie_[static_cast<std::size_t>(node)].token < 0) {
      trie_[static_cast<std::size_t>(node)].token = static_cast<int>(t);
    }
  }
}

void AddedTokenMatcher::split(std::string_view text, bool at_start,
                              std::vector<Segment>& out) const {
  const auto emit_plain = [&](std::size_t begin, std::size_t end) {
    out.push_back({std::string(text.substr(begin, end - begin)), -1, at_start && begin == 0});
  };
  std::size_t start_offset = 0;  // end of the previous accepted match
  std::size_t pos = 0;           // where the next leftmost-longest search begins
  while (pos < text.size() && trie_.size() > 1) {
    // Leftmost-longest: the first position where some pattern matches, the longest there.
    std::size_t match_start = pos;
    int token = -1;
    std::size_t match_end = 0;
    for (; match_start < text.size(); ++match_start) {
      int node = 0;
      for (std::size_t i = match_start; i < text.size(); ++i) {
        const auto& next = trie_[static_cast<std::size_t>(node)].next;
        const auto it = next.find(static_cast<unsigned char>(text[i]));
        if (it == next.end()) break;
        node = it->second;
        if (trie_[static_cast<std::size_t>(node)].token >= 0) {
          token = trie_[static_cast<std::size_t>(node)].token;
          match_end = i + 1;
        }
      }
      if (token >= 0) break;
    }
    if (token < 0) break;
    pos = match_end;
    const AddedToken& added = tokens_[static_cast<std::size_t>(token)];
    std::size_t start = match_start;
    std::size_t stop = match_end;
    if (added.single_word) {
      const bool start_space = start == 0 || !ends_with_word(text.substr(0, start));
      const bool stop_space = stop == text.size() || !starts_with_word(text.substr(stop));
      if (!start_space || !stop_space) continue;
    }
    if (added.lstrip) {
      const std::size_t new_start = start - trailing_space(text.substr(0, start));
      start = std::max(new_start, start_offset);
    }
    if (added.rstrip) stop += leading_space(text.substr(stop));
    if (start > start_offset) emit_plain(start_offset, start);
    out.push_back({std::string(), added.id, false});
    start_offset = stop;
  }
  if (start_offset < text.size()) emit_plain(start_offset, text.size());
}

}  // namespace pplug::hf
