// GGUF vocabularies (tokenizer.ggml.*) read through the tokenizer.json machinery: model type
// "gpt2" (byte-level BPE, gguf_vocab.cpp) and "bert" (WordPiece, gguf_wordpiece_vocab.cpp). The
// helpers check the keys both share; every error is a FormatError naming the file and the key.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "format/gguf_metadata.h"
#include "tokenizer/hf/hf_tokenizer_impl.h"

namespace pplug::hf {

// The value of `key`; FormatError when it is missing.
const detail::GgufValue& gguf_require(const detail::GgufMetadata& meta, const char* key);
// tokenizer.ggml.tokens: a non-empty array of strings.
const std::vector<std::string>& gguf_tokens(const detail::GgufMetadata& meta);
// tokenizer.ggml.token_type, one integer per token, or nullptr when absent.
const detail::GgufValue* gguf_token_types(const detail::GgufMetadata& meta, std::size_t tokens);
// The token id under `key`, -1 when absent; FormatError unless an integer in [0, vocab_size).
int gguf_optional_id(const detail::GgufMetadata& meta, const char* key, int vocab_size);

// What llama.cpp does for a tokenizer.ggml.pre value of a "gpt2" vocabulary (src/llama-vocab.cpp):
// the regexes it splits with, each one splitting the pieces the previous ones left (matches and
// the text between them kept), and whether a pre-token that is a whole vocabulary entry skips
// the merges.
struct GgufPreTokenizer {
  std::vector<std::string> regexes;
  bool ignore_merges = false;
};
// Fills `spec` for `pre`; false when pplug does not know the value.
bool gguf_pre_tokenizer(const std::string& pre, GgufPreTokenizer* spec);

// A vocabulary of model type "bert": llama.cpp's WordPiece ("WPM") vocabulary.
std::unique_ptr<HfTokenizer::Impl> parse_gguf_wordpiece(const detail::GgufMetadata& meta);

}  // namespace pplug::hf
