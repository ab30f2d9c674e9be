// A GGUF vocabulary of model type "bert" (llama.cpp's WordPiece, "WPM") rebuilt as the
// tokenizer.json of a BERT model: WordPiece with "##" continuations, BertNormalizer (clean
// text, CJK ideographs apart, lowercase, strip accents), BertPreTokenizer, the WordPiece decoder.
//
// llama.cpp's converter (convert_hf_to_gguf.py, BertModel.set_vocab) rewrites HF's vocabulary
// into "phantom space" form: a word-initial token gets a leading U+2581 ("hello" ->
// "\u2581hello"), a continuation loses its "##" ("##s" -> "s"), and bracketed tokens ("[CLS]",
// "[unused0]") stay as they are. That is undone here, so a GGUF converted from bert-base-uncased
// holds exactly the tokens of its vocab.txt. llama.cpp itself always lowercases and strips
// accents for these vocabularies and ignores tokenizer.ggml.pre; so does this reader.
#include <initializer_list>

#include "pplug/error.h"
#include "tokenizer/hf/gguf_vocab.h"
#include "tokenizer/hf/hf_tokenizer_impl.h"

namespace pplug::hf {
namespace {

constexpr const char* kWordStart = "\xE2\x96\x81";  // U+2581, llama.cpp's phantom space

// The tokenizer.json (vocab.txt) form of a GGUF token.
std::string wordpiece_form(const std::string& token) {
  if (token.size() >= 2 && token.front() == '[' && token.back() == ']') return token;
  if (token.compare(0, 3, kWordStart) == 0) return token.substr(3);
  return "##" + token;
}

}  // namespace

std::unique_ptr<HfTokenizer::Impl> parse_gguf_wordpiece(const detail::GgufMetadata& meta) {
  const std::string& path = meta.path;
  const std::vector<std::string>& tokens = gguf_tokens(meta);
  const detail::GgufValue* types = gguf_token_types(meta, tokens.size());
  const int size = static_cast<int>(tokens.size());
  Vocab vocab;
  std::vector<AddedToken> added;
  for (int id = 0; id < size; ++id) {
    const std::string& text = tokens[static_cast<std::size_t>(id)];
    const std::string form = wordpiece_form(text);
    const auto [it, fresh] = vocab.emplace(form, id);
    if (!fresh) {
      throw FormatError(path + ": key \"tokenizer.ggml.tokens\"[" + std::to_string(id) +
                        "]: token \"" + text + "\" is the WordPiece token \"" + form +
                        "\", as is token " + std::to_string(it->second));
    }
    const int64_t type = types != nullptr ? types->integers[static_cast<std::size_t>(id)] : 1;
    if (type == 3 || type == 4) {  // control, user-defined: matched in the raw text, as llama.cpp
      AddedToken token;
      token.id = id;
      token.content = form;
      token.special = type == 3;
      added.push_back(std::move(token));
    }
  }
  // An id from the first of `keys` present (each one present must be a valid id), else the id
  // of the token called `name`, else -1. llama.cpp falls back to fixed ids (100, 101, 102, 0);
  // looking the token up by name gives the same ids for BERT's vocabulary and no wrong ones for
  // another layout.
  const auto special_id = [&](std::initializer_list<const char*> keys, const char* name) {
    int id = -1;
    for (const char* key : keys) {
      const int value = gguf_optional_id(meta, key, size);
      if (id < 0) id = value;
    }
    if (id < 0) {
      const auto it = vocab.find(name);
      if (it != vocab.end()) id = it->second;
    }
    return id;
  };
  const int unk = special_id({"tokenizer.ggml.unknown_token_id"}, "[UNK]");
  if (unk < 0) {
    throw FormatError(path +
                      ": key \"tokenizer.ggml.unknown_token_id\": missing, and no token is "
                      "\"[UNK]\" (a WordPiece vocabulary needs an unknown token)");
  }
  auto impl = std::make_unique<HfTokenizer::Impl>();
  impl->path = path;
  impl->unk = unk;
  // [CLS] starts a sequence and [SEP] ends it (llama.cpp appends the separator, not EOS).
  impl->bos = special_id({"tokenizer.ggml.bos_token_id", "tokenizer.ggml.cls_token_id"}, "[CLS]");
  impl->eos =
      special_id({"tokenizer.ggml.seperator_token_id", "tokenizer.ggml.eos_token_id"}, "[SEP]");
  impl->pad = special_id({"tokenizer.ggml.padding_token_id"}, "[PAD]");
  (void)gguf_optional_id(meta, "tokenizer.ggml.mask_token_id", size);  // checked, not used
  impl->model = make_wordpiece_model(std::move(vocab), unk);
  impl->add_bos_default = true;
  if (const detail::GgufValue* add_bos = meta.find("tokenizer.ggml.add_bos_token")) {
    impl->add_bos_default = add_bos->integer != 0;
  }
  const Json normalizer = {{"type", "BertNormalizer"},
                           {"clean_text", true},
                           {"handle_chinese_chars", true},
                           {"strip_accents", true},
                           {"lowercase", true}};
  const Json pre_tokenizer = {{"type", "BertPreTokenizer"}};
  const Json decoder = {{"type", "WordPiece"}, {"prefix", "##"}, {"cleanup", true}};
  impl->normalizer = parse_normalizer(JsonAt{normalizer, path, "normalizer"});
  impl->pre_tokenizer = parse_pre_tokenizer(JsonAt{pre_tokenizer, path, "pre_tokenizer"});
  impl->decoder = parse_decoder(JsonAt{decoder, path, "decoder"});
  finish_vocabulary(*impl, std::move(added), path + ": tokenizer.ggml.token_type");
  return impl;
}

}  // namespace pplug::hf
