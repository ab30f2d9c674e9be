// Added tokens (tokenizer.json "added_tokens"): strings split out of the input as single ids
// before the model sees it, with HF's AddedVocabulary rules: leftmost-longest matching,
// single_word (no word character may touch the match), lstrip/rstrip (the match absorbs the
// whitespace beside it). Tokens with normalized=false are matched in the raw text, the others in
// the normalized text.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pplug::hf {

struct AddedToken {
  int id = -1;
  std::string content;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
  bool special = false;
};

// A stretch of text: either plain text still to tokenize (id < 0) or one added token.
struct Segment {
  std::string text;
  int id = -1;
  bool at_start = false;  // plain text that begins at offset 0 of the original input
};

class AddedTokenMatcher {
 public:
  // Matches `tokens` by the given strings (`patterns[i]` for `tokens[i]`; the content, or its
  // normalized form). Empty patterns are ignored.
  AddedTokenMatcher(std::vector<AddedToken> tokens, std::vector<std::string> patterns);
  AddedTokenMatcher() = default;

  // Splits `text` into plain and added-token segments (HF's AddedVocabulary::find_matches).
  void split(std::string_view text, bool at_start, std::vector<Segment>& out) const;
  bool empty() const { return tokens_.empty(); }

 private:
  struct Node {
    std::unordered_map<unsigned char, int> next;
    int token = -1;  // index into tokens_ of the pattern ending here
  };
  std::vector<AddedToken> tokens_;
  std::vector<Node> trie_;
};

}  // namespace pplug::hf
