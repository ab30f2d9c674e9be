// A GGUF vocabulary (tokenizer.ggml.*): the keys every model type shares, the dispatch on
// tokenizer.ggml.model, and type "gpt2" mapped onto the tokenizer.json machinery: byte-level
// BPE with the pre-tokenizer regexes llama.cpp applies for each tokenizer.ggml.pre value,
// control tokens as special added tokens, user-defined tokens as ordinary added tokens.
#include <map>

#include "format/gguf_metadata.h"
#include "pplug/error.h"
#include "tokenizer/hf/gguf_vocab.h"
#include "tokenizer/hf/hf_tokenizer_impl.h"
#include "tokenizer/hf/regex.h"

namespace pplug::hf {
namespace {

constexpr const char* kGpt2 =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";
constexpr const char* kLlama3 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen2 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kCjk = "[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+";

}  // namespace

bool gguf_pre_tokenizer(const std::string& pre, GgufPreTokenizer* spec) {
  static const std::map<std::string, GgufPreTokenizer> kSpecs = {
      {"default", {{R"([\p{P}\$\+<=>\^~\|]+)", kGpt2, R"(\p{N}+)", "[0-9][0-9][0-9]"}, false}},
      {"gpt-2", {{kGpt2}, false}},
      {"mpt", {{kGpt2}, false}},
      {"olmo", {{kGpt2}, false}},
      {"starcoder", {{R"(\p{N})", kGpt2}, false}},
      {"refact", {{R"(\p{N})", kGpt2}, false}},
      {"smollm", {{R"(\p{N})", kGpt2}, false}},
      {"falcon", {{R"([\p{P}\$\+<=>\^~\|`]+)", kGpt2, "[0-9][0-9][0-9]"}, false}},
      {"deepseek-coder", {{"[\r\n]", R"(\s?\p{L}+)", R"(\s?\p{P}+)", kCjk, R"(\p{N})"}, false}},
      {"deepseek-llm",
       {{"[\r\n]",
         "\\s?[A-Za-z\u00b5\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u01ba\u01bc-\u01bf\u01c4-\u0293"
         "\u0295-\u02af\u0370-\u0373\u0376\u0377\u037b-\u037d\u037f\u0386\u0388-\u038a\u038c"
         "\u038e-\u03a1\u03a3-\u03f5\u03f7-\u0481\u048a-\u052f\u0531-\u0556\u10a0-\u10c5"
         "\u13a0-\u13f5\u13f8-\u13fd\u1c90-\u1cba\u1cbd-\u1cbf\u1d00-\u1d2b\u1d6b-\u1d77"
         "\u1d79-\u1d9a\u1e00-\u1f15\u1f18-\u1f1d\u1f20-\u1f45\u1f48-\u1f4d\u1f50-\u1f57\u1f59"
         "\u1f5b\u1f5d\u1f5f-\u1f7d\u1f80-\u1fb4\u1fb6-\u1fbc\u1fbe\u1fc2-\u1fc4\u1fc6-\u1fcc"
         "\u1fd0-\u1fd3\u1fd6-\u1fdb\u1fe0-\u1fec\u1ff2-\u1ff4\u1ff6-\u1ffc\u2102\u2107"
         "\u210a-\u2113\u2115\u2119-\u211d\u2124\u2126\u2128\u212a-\u212d\u212f-\u2134\u2139"
         "\u213c-\u213f\u2145-\u2149\u214e\u2183\u2184\u2c00-\u2c7b\u2c7e-\u2ce4\u2ceb-\u2cee"
         "\u2cf2\u2cf3\ua640-\ua66d\ua680-\ua69b\ua722-\ua76f\ua771-\ua787\ua78b-\ua78e"
         "\uab70-\uabbf\ufb00-\ufb06\ufb13-\ufb17\uff21-\uff3a\uff41-\uff5a\U00010400-\U0001044f"
         "\U000104b0-\U000104d3\U000104d8-\U000104fb\U00010c80-\U00010cb2\U00010cc0-\U00010cf2"
         "\U000118a0-\U000118df\U0001e900-\U0001e943]+",
         "\\s?[!-/:-~\uff01-\uff0f\uff1a-\uff5e\u2018-\u201f\u3000-\u3002]+", R"(\s+$)", kCjk,
         R"(\p{N}+)"},
        false}},
      {"llama-bpe", {{kLlama3}, true}},
      {"llama3", {{kLlama3}, true}},
      {"dbrx", {{kLlama3}, false}},
      {"smaug-bpe", {{kLlama3}, false}},
      {"qwen2", {{kQwen2}, false}},
      {"stablelm2", {{kQwen2}, false}},
  };
  const auto it = kSpecs.find(pre);
  if (it == kSpecs.end()) return false;
  *spec = it->second;
  return true;
}

namespace {

// Splits every piece with each regex in turn (matches and the text between them kept).
class RegexChainPreTokenizer : public PreTokenizer {
 public:
  explicit RegexChainPreTokenizer(const std::vector<std::string>& regexes,
                                  std::unique_ptr<PreTokenizer> byte_level)
      : byte_level_(std::move(byte_level)) {
    for (const std::string& r : regexes) regexes_.emplace_back(r, false, "tokenizer.ggml.pre");
  }
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    for (const Regex& regex : regexes_) {
      std::vector<Piece> out;
      for (const Piece& piece : pieces) {
        split_piece(piece, regex.find_all(piece.text), SplitBehavior::kIsolated, false, out);
      }
      pieces = std::move(out);
    }
    byte_level_->pre_tokenize(pieces);
  }

 private:
  std::vector<Regex> regexes_;
  std::unique_ptr<PreTokenizer> byte_level_;
};

// A vocabulary of model type "gpt2".
std::unique_ptr<HfTokenizer::Impl> parse_gguf_bpe(const detail::GgufMetadata& meta) {
  const std::string& path = meta.path;
  const detail::GgufValue* pre_value = meta.find("tokenizer.ggml.pre");
  const std::string pre = pre_value != nullptr ? pre_value->text : "default";
  GgufPreTokenizer spec;
  if (!gguf_pre_tokenizer(pre, &spec)) {
    throw FormatError(path + ": key \"tokenizer.ggml.pre\": unsupported value \"" + pre + "\"");
  }
  const std::vector<std::string>& tokens = gguf_tokens(meta);
  const detail::GgufValue& merges_value = gguf_require(meta, "tokenizer.ggml.merges");
  if (merges_value.element_type != detail::GgufType::kString) {
    throw FormatError(path + ": key \"tokenizer.ggml.merges\": expected a string array");
  }
  const detail::GgufValue* types = gguf_token_types(meta, tokens.size());
  Vocab vocab;
  std::vector<AddedToken> added;
  // Trailing unused tokens (type 5: the "[PAD{id}]" rows llama.cpp's converter adds where a
  // model's embedding is larger than its tokenizer, as Qwen's 151936 rows for 151669 ids) are
  // not pieces: the tokenizer ends before them, as the tokenizer.json it came from does, so both
  // files give one tokenizer (and one plug-in encoder fingerprint). The model's extra rows are
  // never sampled (Generator::mask_unknown).
  int size = static_cast<int>(tokens.size());
  while (types != nullptr && size > 0 && types->integers[static_cast<std::size_t>(size) - 1] == 5) {
    --size;
  }
  for (int id = 0; id < size; ++id) {
    const std::string& text = tokens[static_cast<std::size_t>(id)];
    if (!vocab.emplace(text, id).second) {
      throw FormatError(path + ": key \"tokenizer.ggml.tokens\"[" + std::to_string(id) +
                        "]: duplicate token \"" + text + "\"");
    }
    const int64_t type = types != nullptr ? types->integers[static_cast<std::size_t>(id)] : 1;
    if (type == 3 || type == 4) {  // control, user-defined
      AddedToken token;
      token.id = id;
      token.content = text;
      token.special = type == 3;
      added.push_back(std::move(token));
    }
  }
  std::vector<MergeRule> merges;
  merges.reserve(merges_value.texts.size());
  for (std::size_t i = 0; i < merges_value.texts.size(); ++i) {
    const std::string& line = merges_value.texts[i];
    const std::size_t space = line.find(' ', 1);
    if (space == std::string::npos) {
      throw FormatError(path + ": key \"tokenizer.ggml.merges\"[" + std::to_string(i) +
                        "]: expected \"left right\", got \"" + line + "\"");
    }
    merges.push_back({line.substr(0, space), line.substr(space + 1)});
  }
  auto impl = std::make_unique<HfTokenizer::Impl>();
  impl->path = path;
  BpeOptions options;
  options.ignore_merges = spec.ignore_merges;
  impl->model = make_bpe_model(std::move(vocab), merges, options, [&](std::size_t i) {
    return path + ": key \"tokenizer.ggml.merges\"[" + std::to_string(i) + "]";
  });
  const Json byte_level = {
      {"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}};
  const std::string file = path;
  impl->pre_tokenizer = std::make_unique<RegexChainPreTokenizer>(
      spec.regexes, parse_pre_tokenizer(JsonAt{byte_level, file, "pre_tokenizer"}));
  impl->decoder = parse_decoder(JsonAt{byte_level, file, "decoder"});
  finish_vocabulary(*impl, std::move(added), path + ": tokenizer.ggml.token_type");
  impl->bos = gguf_optional_id(meta, "tokenizer.ggml.bos_token_id", size);
  impl->eos = gguf_optional_id(meta, "tokenizer.ggml.eos_token_id", size);
  impl->unk = gguf_optional_id(meta, "tokenizer.ggml.unknown_token_id", size);
  impl->pad = gguf_optional_id(meta, "tokenizer.ggml.padding_token_id", size);
  if (const detail::GgufValue* add_bos = meta.find("tokenizer.ggml.add_bos_token")) {
    impl->add_bos_default = add_bos->integer != 0;
  }
  return impl;
}

}  // namespace

const detail::GgufValue& gguf_require(const detail::GgufMetadata& meta, const char* key) {
  const detail::GgufValue* v = meta.find(key);
  if (v == nullptr) throw FormatError(meta.path + ": missing key \"" + std::string(key) + "\"");
  return *v;
}

const std::vector<std::string>& gguf_tokens(const detail::GgufMetadata& meta) {
  const detail::GgufValue& tokens = gguf_require(meta, "tokenizer.ggml.tokens");
  if (tokens.type != detail::GgufType::kArray || tokens.element_type != detail::GgufType::kString ||
      tokens.texts.empty()) {
    throw FormatError(meta.path + ": key \"tokenizer.ggml.tokens\": expected a string array");
  }
  return tokens.texts;
}

const detail::GgufValue* gguf_token_types(const detail::GgufMetadata& meta, std::size_t tokens) {
  const detail::GgufValue* types = meta.find("tokenizer.ggml.token_type");
  if (types != nullptr && (types->type != detail::GgufType::kArray || !types->texts.empty() ||
                           types->integers.size() != tokens)) {
    throw FormatError(meta.path + ": key \"tokenizer.ggml.token_type\": " +
                      std::to_string(types->integers.size()) + " integer entries for " +
                      std::to_string(tokens) + " tokens");
  }
  return types;
}

int gguf_optional_id(const detail::GgufMetadata& meta, const char* key, int vocab_size) {
  const detail::GgufValue* v = meta.find(key);
  if (v == nullptr) return -1;
  using detail::GgufType;
  if (v->type == GgufType::kArray || v->type == GgufType::kString ||
      v->type == GgufType::kFloat32 || v->type == GgufType::kFloat64 ||
      v->type == GgufType::kBool) {
    throw FormatError(meta.path + ": key \"" + key + "\": expected an integer token id");
  }
  if (v->integer < 0 || v->integer >= vocab_size) {
    throw FormatError(meta.path + ": key \"" + key + "\": expected a token id below " +
                      std::to_string(vocab_size) + ", got " + std::to_string(v->integer));
  }
  return static_cast<int>(v->integer);
}

std::unique_ptr<HfTokenizer::Impl> parse_gguf_vocab(const std::string& path) {
  const detail::GgufMetadata meta = detail::read_gguf_metadata(path);
  const detail::GgufValue& model = gguf_require(meta, "tokenizer.ggml.model");
  if (model.type == detail::GgufType::kString && model.text == "gpt2") return parse_gguf_bpe(meta);
  if (model.type == detail::GgufType::kString && model.text == "bert") {
    return parse_gguf_wordpiece(meta);
  }
  throw FormatError(path +
                    ": key \"tokenizer.ggml.model\": only \"gpt2\" (byte-level BPE) and "
                    "\"bert\" (WordPiece) are read here, got \"" +
                    model.text + "\"");
}

}  // namespace pplug::hf
