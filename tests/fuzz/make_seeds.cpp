// Writes the binary seeds of the fuzz corpus with pplug's own writers: small GGUF files (a
// SentencePiece vocabulary, a byte-level BPE vocabulary, a tensor table) and a SentencePiece
// .model. Usage: fuzz_make_seeds CORPUS_DIR (the folder holding one folder per target).
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "format/gguf_writer.h"
#include "tokenizer/gguf_spm_vocab.h"
#include "tokenizer/spm_model_proto.h"

using namespace pplug::detail;

namespace {

SpmModelSpec tiny_spm(int model_type) {
  SpmModelSpec spec;
  spec.model_type = model_type;
  spec.byte_fallback = model_type == 2;
  spec.pieces = {{"<unk>", 0.0f, SpmPieceType::kUnknown},
                 {"<s>", 0.0f, SpmPieceType::kControl},
                 {"</s>", 0.0f, SpmPieceType::kControl},
                 {"<0x41>", 0.0f, SpmPieceType::kByte},
                 {"\xe2\x96\x81", -1.0f, SpmPieceType::kNormal},
                 {"\xe2\x96\x81h", -2.0f, SpmPieceType::kNormal},
                 {"e", -3.0f, SpmPieceType::kNormal},
                 {"l", -3.5f, SpmPieceType::kNormal},
                 {"lo", -4.0f, SpmPieceType::kNormal},
                 {"<user>", 0.0f, SpmPieceType::kUserDefined}};
  return spec;
}

void add_llama_header(GgufWriter& w) {
  w.add_string("general.architecture", "llama");
  w.add_uint32("llama.context_length", 64);
  w.add_uint32("llama.embedding_length", 4);
  w.add_float32("llama.rope.freq_base", 10000.0f);
  w.add_bool("general.flag", true);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  {
    GgufWriter w;
    add_llama_header(w);
    add_spm_vocab(tiny_spm(2), w);
    w.write(dir + "/gguf_metadata/spm_llama.gguf");
  }
  {
    GgufWriter w;
    add_spm_vocab(tiny_spm(1), w);
    w.write(dir + "/gguf_metadata/spm_t5.gguf");
  }
  {
    GgufWriter w;
    w.add_string("tokenizer.ggml.model", "gpt2");
    w.add_string("tokenizer.ggml.pre", "llama-bpe");
    w.add_strings("tokenizer.ggml.tokens",
                  {"H", "e", "l", "o", "He", "ll", "Hell", "Hello", "\xc4\xa0", "<|end|>"});
    w.add_int32s("tokenizer.ggml.token_type", {1, 1, 1, 1, 1, 1, 1, 1, 1, 3});
    w.add_strings("tokenizer.ggml.merges", {"H e", "l l", "He ll", "Hell o"});
    w.add_uint32("tokenizer.ggml.bos_token_id", 9);
    w.add_uint32("tokenizer.ggml.eos_token_id", 9);
    w.write(dir + "/gguf_metadata/gpt2.gguf");
  }
  {
    GgufWriter w;
    add_llama_header(w);
    w.add_uint8s("general.bytes", "\x01\x02\x03");
    w.add_float32s("general.floats", {1.0f, -2.5f});
    w.add_tensor("token_embd.weight", {2, 4}, GgmlType::kF32, 32,
                 [] { return std::string(32, '\0'); });
    w.add_tensor("blk.0.attn_q.weight", {4, 32}, GgmlType::kQ8_0, 4 * 34,
                 [] { return std::string(4 * 34, '\0'); });
    w.add_tensor("output_norm.weight", {4}, GgmlType::kF16, 8, [] { return std::string(8, '\0'); });
    w.write(dir + "/gguf_metadata/tensors.gguf");
  }
  for (int type : {1, 2}) {
    const std::string path =
        dir + "/spm_model_proto/tiny_" + (type == 1 ? "unigram" : "bpe") + ".model";
    std::ofstream(path, std::ios::binary) << serialize_spm_model(tiny_spm(type));
  }
  return 0;
}
