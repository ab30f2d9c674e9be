// WordPiece tokenizer of BERT-family sentence encoders (BGE, Contriever, bert-base-uncased),
// matching Hugging Face's BertTokenizer: basic tokenization (cleaning, whitespace and
// punctuation splitting, CJK ideographs as single tokens, optional lowercasing with accent
// stripping), then greedy longest-match-first WordPiece with the "##" continuation prefix.
// Words longer than 100 code points, and words that cannot be covered by vocabulary pieces,
// become [UNK]. Special tokens written literally in the text ("[CLS]", "[SEP]", "[PAD]", "[UNK]",
// "[MASK]", case-sensitive) map to their ids, as in HF. Invalid UTF-8 bytes are dropped.
//
// Thread safety: all const methods may be called concurrently on one instance.
#pragma once

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace pplug {

class WordPieceTokenizer {
 public:
  // Loads a vocab.txt (one token per line; id = 0-based line index). Throws FormatError naming
  // the file (and line) when it is missing, empty, has an empty or duplicate entry or invalid
  // UTF-8, or lacks one of [UNK], [CLS], [SEP], [PAD]. A trailing "\r" on a line is ignored.
  // `lowercase` = true for uncased models (lowercase + strip accents); false leaves case and
  // accents as they are.
  explicit WordPieceTokenizer(const std::string& vocab_path, bool lowercase = true);

  // Token ids of `text`, without [CLS]/[SEP]. Empty text gives no ids.
  std::vector<int> encode(const std::string& text) const;
  // [CLS] + ids + [SEP], the ids truncated so that the whole is at most `max_length` (>= 2;
  // InvalidArgument otherwise) long.
  std::vector<int> encode_for_model(const std::string& text, int max_length) const;

  // The token string of an id; throws InvalidArgument when out of range.
  std::string id_to_token(int id) const;
  // The id of a token string, or unk_id() when it is not in the vocabulary.
  int token_to_id(const std::string& token) const;
  int vocab_size() const;
  int cls_id() const { return cls_id_; }
  int sep_id() const { return sep_id_; }
  int pad_id() const { return pad_id_; }
  int unk_id() const { return unk_id_; }
  int mask_id() const { return mask_id_; }  // -1 when the vocabulary has no [MASK]
  bool lowercase() const { return lowercase_; }
  const std::string& path() const { return path_; }

 private:
  // Appends the ids of a text that contains no special token.
  void encode_plain(const std::string& text, std::vector<int>& ids) const;

  std::string path_;
  bool lowercase_ = true;
  std::vector<std::string> tokens_;                    // id -> token
  std::unordered_map<std::string, int> ids_;           // token -> id
  std::vector<std::pair<std::string, int>> specials_;  // literal special tokens in the vocab
  int unk_id_ = -1;
  int cls_id_ = -1;
  int sep_id_ = -1;
  int pad_id_ = -1;
  int mask_id_ = -1;
};

}  // namespace pplug
