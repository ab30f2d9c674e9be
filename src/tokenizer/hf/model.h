// tokenizer.json "model": turns one pre-token into ids. BPE (byte-level or SentencePiece-style
// with byte fallback) and WordPiece.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/hf/json_util.h"

namespace pplug::hf {

using Vocab = std::unordered_map<std::string, int>;

class Model {
 public:
  virtual ~Model() = default;
  // Appends the ids of one non-empty pre-token. Thread-safe.
  virtual void tokenize(std::string_view piece, std::vector<int>& ids) const = 0;
  virtual const Vocab& vocab() const = 0;
  // The unknown token's id, or -1.
  virtual int unk_id() const = 0;
};

// Options of the BPE model, as tokenizer.json names them.
struct BpeOptions {
  std::string unk_token;                  // empty: none (unknown characters are dropped)
  bool fuse_unk = false;                  // consecutive unknowns become one unk id
  bool byte_fallback = false;             // unknown characters become <0xNN> byte tokens
  bool ignore_merges = false;             // a pre-token that is a vocab entry is emitted whole
  std::string continuing_subword_prefix;  // prefixed to every non-initial character
  std::string end_of_word_suffix;         // appended to the last character
};

// A merge rule: the two token strings that merge.
struct MergeRule {
  std::string left;
  std::string right;
};

// Builds a BPE model. `where_merge(i)` names merge i in errors (e.g. "file: model.merges[i]").
// Throws FormatError when a merge names a token missing from the vocabulary.
std::unique_ptr<Model> make_bpe_model(Vocab vocab, const std::vector<MergeRule>& merges,
                                      BpeOptions options,
                                      const std::function<std::string(std::size_t)>& where_merge);

// Builds a WordPiece model: "##" continuations, at most 100 code points per word (HF's
// defaults); `unk_id` must be an id of `vocab`.
std::unique_ptr<Model> make_wordpiece_model(Vocab vocab, int unk_id);

// The model described at `j` (type BPE or WordPiece).
std::unique_ptr<Model> parse_model(const JsonAt& j);

}  // namespace pplug::hf
