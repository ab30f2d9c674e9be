// tokenizer.json "pre_tokenizer": Split, ByteLevel, Metaspace, Digits, Whitespace,
// WhitespaceSplit, Punctuation, BertPreTokenizer and Sequence. Each one splits every piece of
// text further (empty pieces are dropped) and may rewrite it (ByteLevel maps bytes to
// characters; Metaspace replaces spaces).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tokenizer/hf/json_util.h"
#include "tokenizer/hf/regex.h"

namespace pplug::hf {

struct Piece {
  std::string text;
  bool at_start = false;  // begins at offset 0 of the original input (Metaspace "first")
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  virtual void pre_tokenize(std::vector<Piece>& pieces) const = 0;
};

// How the matches of a Split pattern become pieces (HF's SplitDelimiterBehavior).
enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

// Splits `piece` around the `matches` of a pattern (inverted: the text between matches is
// what counts as matched) and appends the non-empty results to `out`.
void split_piece(const Piece& piece, const std::vector<Match>& matches, SplitBehavior behavior,
                 bool invert, std::vector<Piece>& out);

// The pre-tokenizer described at `j`; nullptr for a null value.
std::unique_ptr<PreTokenizer> parse_pre_tokenizer(const JsonAt& j);

// GPT-2's pre-tokenization regex (ByteLevel with use_regex).
extern const char* const kGpt2Regex;

}  // namespace pplug::hf
