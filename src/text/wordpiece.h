// Greedy longest-match-first WordPiece over one pre-tokenized word.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

namespace pplug::detail {

// Words longer than this many code points become [UNK] (HF's max_input_chars_per_word).
inline constexpr std::size_t kMaxWordPieceChars = 100;

// Appends the ids of `word`: the longest vocabulary prefix, then repeatedly the longest
// "##"-prefixed continuation. A word that cannot be covered entirely, or is longer than
// kMaxWordPieceChars, yields the single id `unk_id`.
void append_wordpiece_ids(const std::u32string& word,
                          const std::unordered_map<std::string, int>& vocab, int unk_id,
                          std::vector<int>& ids);

}  // namespace pplug::detail
