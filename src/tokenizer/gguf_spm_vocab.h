// A SentencePiece vocabulary stored in GGUF (tokenizer.ggml.model "llama" for BPE models, "t5"
// for unigram ones), in both directions: GGUF keys -> a SentencePiece model spec (which the
// real sentencepiece library then runs), and a .model file's spec -> GGUF keys, under the key
// names and defaults llama.cpp uses.
#pragma once

#include "format/gguf_metadata.h"
#include "format/gguf_writer.h"
#include "tokenizer/spm_model_proto.h"

namespace pplug::detail {

// True when `meta` holds a SentencePiece vocabulary.
bool is_gguf_spm_vocab(const GgufMetadata& meta);
// The SentencePiece model of `meta`'s vocabulary; FormatError naming the file and key when a
// key is missing, of the wrong type, or inconsistent (array lengths, ids out of range).
SpmModelSpec spm_model_from_gguf(const GgufMetadata& meta);
// Adds the tokenizer.ggml.* keys of `spec`.
void add_spm_vocab(const SpmModelSpec& spec, GgufWriter& out);

}  // namespace pplug::detail
