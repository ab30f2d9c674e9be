#include "tokenizer/hf/model.h"

#include "pplug/error.h"
#include "text/utf8.h"
#include "text/wordpiece.h"

namespace pplug::hf {
namespace {

// Largest accepted token id; keeps id tables of hostile files bounded.
constexpr long long kMaxTokenId = (1LL << 24) - 1;

Vocab parse_vocab(const JsonAt& j) {
  j.require_object();
  Vocab vocab;
  vocab.reserve(j.value.size());
  std::unordered_map<int, const std::string*> by_id;
  by_id.reserve(j.value.size());
  for (const auto& [token, id_json] : j.value.items()) {
    const JsonAt entry{id_json, j.file, j.path + "[" + Json(token).dump() + "]"};
    const long long id = entry.as_int();
    if (id < 0 || id > kMaxTokenId) entry.fail("token id out of range [0, 16777215]");
    const auto [it, inserted] = vocab.emplace(token, static_cast<int>(id));
    const auto [other, fresh] = by_id.emplace(static_cast<int>(id), &it->first);
    if (!fresh) {
      entry.fail("duplicate id " + std::to_string(id) + " (also used by " +
                 Json(*other->second).dump() + ")");
    }
  }
  return vocab;
}

std::vector<MergeRule> parse_merges(const JsonAt& j) {
  std::vector<MergeRule> rules;
  if (j.value.is_null()) return rules;
  j.require_array();
  rules.reserve(j.value.size());
  for (std::size_t i = 0; i < j.value.size(); ++i) {
    const JsonAt m = j.at(i);
    if (m.value.is_string()) {
      const std::string& line = m.value.get_ref<const std::string&>();
      const std::size_t space = line.find(' ');
      if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos) {
        m.fail("expected \"left right\" (two tokens separated by one space)");
      }
      rules.push_back({line.substr(0, space), line.substr(space + 1)});
    } else if (m.value.is_array() && m.value.size() == 2 && m.value[0].is_string() &&
               m.value[1].is_string()) {
      rules.push_back({m.value[0].get<std::string>(), m.value[1].get<std::string>()});
    } else {
      m.fail("expected \"left right\" or [\"left\", \"right\"]");
    }
  }
  return rules;
}

std::unique_ptr<Model> parse_bpe(const JsonAt& j) {
  if (j.has("dropout")) {
    const JsonAt d = j["dropout"];
    if (!d.value.is_number()) d.fail("expected a number or null");
    if (d.value.get<double>() != 0.0) d.fail("BPE dropout is not supported (set it to null)");
  }
  BpeOptions options;
  options.unk_token = j.string_or("unk_token", "");
  options.fuse_unk = j.bool_or("fuse_unk", false);
  options.byte_fallback = j.bool_or("byte_fallback", false);
  options.ignore_merges = j.bool_or("ignore_merges", false);
  options.continuing_subword_prefix = j.string_or("continuing_subword_prefix", "");
  options.end_of_word_suffix = j.string_or("end_of_word_suffix", "");
  Vocab vocab = parse_vocab(j["vocab"]);
  if (!options.unk_token.empty() && vocab.count(options.unk_token) == 0) {
    j["unk_token"].fail("unk_token is not in model.vocab");
  }
  const JsonAt merges_at = j["merges"];
  const std::vector<MergeRule> merges = parse_merges(merges_at);
  return make_bpe_model(std::move(vocab), merges, std::move(options), [&](std::size_t i) {
    return j.file + ": " + merges_at.path + "[" + std::to_string(i) + "]";
  });
}

// HF's WordPiece model over the existing greedy longest-match implementation.
class WordPieceModel : public Model {
 public:
  WordPieceModel(Vocab vocab, int unk_id) : vocab_(std::move(vocab)), unk_id_(unk_id) {}
  void tokenize(std::string_view piece, std::vector<int>& ids) const override {
    detail::append_wordpiece_ids(detail::decode_utf8(piece), vocab_, unk_id_, ids);
  }
  const Vocab& vocab() const override { return vocab_; }
  int unk_id() const override { return unk_id_; }

 private:
  Vocab vocab_;
  int unk_id_;
};

std::unique_ptr<Model> parse_wordpiece(const JsonAt& j) {
  const JsonAt prefix = j["continuing_subword_prefix"];
  if (j.has("continuing_subword_prefix") && prefix.as_string() != "##") {
    prefix.fail("only the \"##\" continuing_subword_prefix is supported");
  }
  const JsonAt max_chars = j["max_input_chars_per_word"];
  if (j.has("max_input_chars_per_word") &&
      max_chars.as_int() != static_cast<long long>(detail::kMaxWordPieceChars)) {
    max_chars.fail("only max_input_chars_per_word = 100 is supported");
  }
  Vocab vocab = parse_vocab(j["vocab"]);
  const JsonAt unk = j["unk_token"];
  const std::string unk_token = j.string_or("unk_token", "[UNK]");
  const auto it = vocab.find(unk_token);
  if (it == vocab.end()) unk.fail("unk_token is not in model.vocab");
  const int unk_id = it->second;
  return make_wordpiece_model(std::move(vocab), unk_id);
}

}  // namespace

std::unique_ptr<Model> make_wordpiece_model(Vocab vocab, int unk_id) {
  return std::make_unique<WordPieceModel>(std::move(vocab), unk_id);
}

std::unique_ptr<Model> parse_model(const JsonAt& j) {
  const std::string type = j.has("type") ? j.type() : (j.has("merges") ? "BPE" : "");
  if (type == "BPE") return parse_bpe(j);
  if (type == "WordPiece") return parse_wordpiece(j);
  if (type.empty()) j.fail("missing model type");
  j["type"].fail("unsupported model type (supported: BPE, WordPiece)");
}

}  // namespace pplug::hf
