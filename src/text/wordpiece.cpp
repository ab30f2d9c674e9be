#include "text/wordpiece.h"

#include <algorithm>
#include <string_view>

#include "pplug/error.h"
#include "pplug/wordpiece.h"
#include "text/unicode_pretokenize.h"
#include "text/utf8.h"
#include "util/file_io.h"

namespace pplug {
namespace detail {

void append_wordpiece_ids(const std::u32string& word,
                          const std::unordered_map<std::string, int>& vocab, int unk_id,
                          std::vector<int>& ids) {
  if (word.size() > kMaxWordPieceChars) {
    ids.push_back(unk_id);
    return;
  }
  // UTF-8 bytes of the word and the byte offset of every code point (plus the end).
  std::string bytes;
  std::vector<std::size_t> offsets;
  offsets.reserve(word.size() + 1);
  for (char32_t cp : word) {
    offsets.push_back(bytes.size());
    append_utf8(bytes, cp);
  }
  offsets.push_back(bytes.size());

  const std::size_t first_new = ids.size();
  std::string key;
  std::size_t start = 0;
  while (start < word.size()) {
    int match = -1;
    std::size_t end = word.size();
    for (; end > start; --end) {
      key.assign(start > 0 ? "##" : "");
      key.append(bytes, offsets[start], offsets[end] - offsets[start]);
      const auto it = vocab.find(key);
      if (it != vocab.end()) {
        match = it->second;
        break;
      }
    }
    if (match < 0) {
      ids.resize(first_new);
      ids.push_back(unk_id);
      return;
    }
    ids.push_back(match);
    start = end;
  }
}

}  // namespace detail

namespace {

constexpr std::string_view kSpecialTokens[] = {"[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]"};

// The id of a token that the vocabulary must contain.
int required_id(const std::unordered_map<std::string, int>& ids, const std::string& token,
                const std::string& path) {
  const auto it = ids.find(token);
  if (it == ids.end()) {
    throw FormatError(path + ": vocabulary lacks the special token " + token);
  }
  return it->second;
}

}  // namespace

WordPieceTokenizer::WordPieceTokenizer(const std::string& vocab_path, bool lowercase)
    : path_(vocab_path), lowercase_(lowercase) {
  const std::string data = detail::read_file(vocab_path);
  if (data.empty()) throw FormatError(vocab_path + ": empty vocabulary file");
  std::size_t pos = 0;
  while (pos < data.size()) {
    std::size_t eol = data.find('\n', pos);
    if (eol == std::string::npos) eol = data.size();
    std::string token = data.substr(pos, eol - pos);
    pos = eol + 1;
    if (!token.empty() && token.back() == '\r') token.pop_back();
    const std::string where = vocab_path + ":" + std::to_string(tokens_.size() + 1) + ": ";
    if (token.empty()) throw FormatError(where + "empty token");
    if (!detail::is_valid_utf8(token)) throw FormatError(where + "invalid UTF-8");
    const auto [it, inserted] = ids_.emplace(token, static_cast<int>(tokens_.size()));
    if (!inserted) {
      std::string message = where;
      message += "duplicate token '" + token + "' (first on line ";
      message += std::to_string(it->second + 1) + ")";
      throw FormatError(message);
    }
    tokens_.push_back(std::move(token));
  }
  unk_id_ = required_id(ids_, "[UNK]", vocab_path);
  cls_id_ = required_id(ids_, "[CLS]", vocab_path);
  sep_id_ = required_id(ids_, "[SEP]", vocab_path);
  pad_id_ = required_id(ids_, "[PAD]", vocab_path);
  const auto mask = ids_.find("[MASK]");
  mask_id_ = mask == ids_.end() ? -1 : mask->second;
  for (std::string_view special : kSpecialTokens) {
    const auto it = ids_.find(std::string(special));
    if (it != ids_.end()) specials_.emplace_back(it->first, it->second);
  }
}

void WordPieceTokenizer::encode_plain(const std::string& text, std::vector<int>& ids) const {
  const std::u32string decoded = detail::decode_utf8(text);
  for (const std::u32string& word : detail::unicode::bert_basic_tokenize(decoded, lowercase_)) {
    detail::append_wordpiece_ids(word, ids_, unk_id_, ids);
  }
}

std::vector<int> WordPieceTokenizer::encode(const std::string& text) const {
  std::vector<int> ids;
  // Literal special tokens split the text, as HF's added-token trie does.
  std::size_t plain_start = 0;
  for (std::size_t pos = text.find('['); pos != std::string::npos; pos = text.find('[', pos)) {
    const auto special = std::find_if(specials_.begin(), specials_.end(), [&](const auto& s) {
      return text.compare(pos, s.first.size(), s.first) == 0;
    });
    if (special == specials_.end()) {
      ++pos;
      continue;
    }
    encode_plain(text.substr(plain_start, pos - plain_start), ids);
    ids.push_back(special->second);
    pos += special->first.size();
    plain_start = pos;
  }
  encode_plain(text.substr(plain_start), ids);
  return ids;
}

std::vector<int> WordPieceTokenizer::encode_for_model(const std::string& text,
                                                      int max_length) const {
  if (max_length < 2) {
    throw InvalidArgument("WordPieceTokenizer::encode_for_model: max_length must be >= 2, got " +
                          std::to_string(max_length));
  }
  std::vector<int> body = encode(text);
  const std::size_t keep = std::min(body.size(), static_cast<std::size_t>(max_length - 2));
  std::vector<int> ids;
  ids.reserve(keep + 2);
  ids.push_back(cls_id_);
  ids.insert(ids.end(), body.begin(), body.begin() + static_cast<std::ptrdiff_t>(keep));
  ids.push_back(sep_id_);
  return ids;
}

std::string WordPieceTokenizer::id_to_token(int id) const {
  if (id < 0 || id >= vocab_size()) {
    throw InvalidArgument("WordPieceTokenizer::id_to_token: id " + std::to_string(id) +
                          " out of range [0, " + std::to_string(vocab_size()) + ")");
  }
  return tokens_[static_cast<std::size_t>(id)];
}

int WordPieceTokenizer::token_to_id(const std::string& token) const {
  const auto it = ids_.find(token);
  return it == ids_.end() ? unk_id_ : it->second;
}

int WordPieceTokenizer::vocab_size() const { return static_cast<int>(tokens_.size()); }

}  // namespace pplug
