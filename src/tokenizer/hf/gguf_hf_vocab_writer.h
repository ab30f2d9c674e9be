// A Hugging Face tokenizer.json of a byte-level BPE tokenizer (GPT-2, Llama 3, Qwen2/3, SmolLM)
// written as a GGUF vocabulary: the tokenizer.ggml.* keys llama.cpp's convert_hf_to_gguf.py
// writes for it (model "gpt2"), so that llama.cpp, and pplug's own GGUF reader, tokenize as the
// tokenizer.json does. The reverse of gguf_vocab.cpp's "gpt2" reader.
#pragma once

#include <cstdint>
#include <string>

#include "format/gguf_writer.h"

namespace pplug::detail {

// Adds the vocabulary of `tokenizer_json_path` (a tokenizer.json, or a folder holding one):
// - tokenizer.ggml.model "gpt2" and tokenizer.ggml.pre, the llama.cpp pre-tokenizer whose
//   regexes are exactly the tokenizer.json's (among equals, the one whose decoding clean-up
//   matches tokenizer_config.json's clean_up_tokenization_spaces);
// - tokens by id and token_type: 1 normal; 3 control for special added tokens and for added
//   tokens llama.cpp's converter takes as special by their look (<|...|>, <pad>, ...); 4
//   user-defined for the other added tokens (U+2581 written as a space); 5 unused for ids no
//   token has, written "[PAD<id>]";
// - merges as "left right" strings (a space inside a token written as U+0120, as llama.cpp);
// - the BOS/EOS/UNK/PAD ids as HfTokenizer::load resolves them; add_bos_token when
//   tokenizer_config.json or the post-processor template says (else llama.cpp's default for the
//   pre-tokenizer applies), add_eos_token when tokenizer_config.json says; chat_template (and
//   named chat_template.<name> entries) from tokenizer_config.json.
// `rows` is the model's vocab_size (0: as many as the tokenizer's ids): more rows than ids are
// "[PAD<id>]" unused tokens, as llama.cpp writes Qwen's 151669 ids into 151936 rows; fewer is a
// MismatchError naming both counts.
// A tokenizer.json that is not byte-level BPE (WordPiece; SentencePiece-style BPE with
// byte_fallback or Metaspace), that has a normalizer other than NFC (which llama.cpp does not
// apply either), or whose pre-tokenizer no llama.cpp pre-tokenizer name matches is an
// InvalidArgument naming the file and what does not fit.
void add_hf_vocab(const std::string& tokenizer_json_path, GgufWriter& out, int64_t rows = 0);

}  // namespace pplug::detail
