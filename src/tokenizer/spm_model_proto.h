// SentencePiece's model file (a serialized sentencepiece.ModelProto) read and written by hand:
// only the fields a tokenizer needs (pieces with scores and types, the model type, byte
// fallback, special ids and pieces, the normalizer settings). It is how a GGUF vocabulary of a
// SentencePiece model (tokenizer.ggml.model "llama" or "t5") becomes a model the real
// sentencepiece library loads, and how a .model file becomes a GGUF vocabulary. Field numbers
// are those of sentencepiece_model.proto.
#pragma once

#include <string>
#include <vector>

namespace pplug::detail {

// SentencePiece piece types, which GGUF's tokenizer.ggml.token_type uses too.
enum class SpmPieceType : int {
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

struct SpmPiece {
  std::string piece;
  float score = 0.0f;
  SpmPieceType type = SpmPieceType::kNormal;
};

struct SpmModelSpec {
  std::vector<SpmPiece> pieces;
  int model_type = 1;  // 1 unigram, 2 BPE (TrainerSpec.ModelType)
  bool byte_fallback = false;
  int unk_id = 0, bos_id = 1, eos_id = 2, pad_id = -1;  // -1: none
  std::string unk_piece = "<unk>", bos_piece = "<s>", eos_piece = "</s>", pad_piece = "<pad>";
  std::string normalizer_name = "nmt_nfkc";
  std::string precompiled_charsmap;
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = true;
  bool escape_whitespaces = true;
  bool treat_whitespace_as_suffix = false;
};

// Parses a .model file's bytes; FormatError naming `source` when they are not a ModelProto.
SpmModelSpec parse_spm_model(const std::string& bytes, const std::string& source);
// The ModelProto bytes of `spec` (what sentencepiece's LoadFromSerializedProto takes).
std::string serialize_spm_model(const SpmModelSpec& spec);

}  // namespace pplug::detail
