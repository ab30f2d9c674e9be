#include "tokenizer/gguf_spm_vocab.h"

#include "pplug/error.h"

namespace pplug::detail {
namespace {

[[noreturn]] void fail(const GgufMetadata& meta, const std::string& key, const std::string& what) {
  throw FormatError(meta.path + ": " + key + ": " + what);
}

std::string model_name(const GgufMetadata& meta) {
  const GgufValue* v = meta.find("tokenizer.ggml.model");
  return v != nullptr && v->type == GgufType::kString ? v->text : "";
}

// An optional integer key, or `fallback`; -1 stays "none".
int optional_id(const GgufMetadata& meta, const std::string& key, int fallback, size_t vocab) {
  const GgufValue* v = meta.find(key);
  if (v == nullptr) return fallback;
  if (v->type == GgufType::kString || v->type == GgufType::kArray ||
      v->type == GgufType::kFloat32 || v->type == GgufType::kFloat64) {
    fail(meta, key, "expected an integer");
  }
  if (v->integer < -1 || v->integer >= static_cast<int64_t>(vocab)) {
    fail(meta, key,
         "id " + std::to_string(v->integer) + " is outside the vocabulary of " +
             std::to_string(vocab));
  }
  return static_cast<int>(v->integer);
}

bool optional_bool(const GgufMetadata& meta, const std::string& key, bool fallback) {
  const GgufValue* v = meta.find(key);
  if (v == nullptr) return fallback;
  if (v->type != GgufType::kBool) fail(meta, key, "expected a bool");
  return v->integer != 0;
}

}  // namespace

bool is_gguf_spm_vocab(const GgufMetadata& meta) {
  const std::string model = model_name(meta);
  return model == "llama" || model == "t5";
}

SpmModelSpec spm_model_from_gguf(const GgufMetadata& meta) {
  const std::string model = model_name(meta);
  if (model != "llama" && model != "t5") {
    fail(meta, "tokenizer.ggml.model",
         "\"" + model + "\" is not a SentencePiece vocabulary (llama or t5)");
  }
  const GgufValue* tokens = meta.find("tokenizer.ggml.tokens");
  if (tokens == nullptr || tokens->type != GgufType::kArray ||
      tokens->element_type != GgufType::kString || tokens->texts.empty()) {
    fail(meta, "tokenizer.ggml.tokens", "missing or not a non-empty array of strings");
  }
  const size_t n = tokens->texts.size();
  const GgufValue* scores = meta.find("tokenizer.ggml.scores");
  if (scores != nullptr && (scores->type != GgufType::kArray || scores->reals.size() != n)) {
    fail(meta, "tokenizer.ggml.scores",
         "expected " + std::to_string(n) + " float scores, one per token");
  }
  const GgufValue* types = meta.find("tokenizer.ggml.token_type");
  if (types != nullptr && (types->type != GgufType::kArray || types->integers.size() != n)) {
    fail(meta, "tokenizer.ggml.token_type",
         "expected " + std::to_string(n) + " integer types, one per token");
  }
  SpmModelSpec spec;
  spec.model_type = model == "t5" ? 1 : 2;
  spec.pieces.resize(n);
  for (size_t i = 0; i < n; ++i) {
    SpmPiece& p = spec.pieces[i];
    p.piece = tokens->texts[i];
    p.score = scores != nullptr ? static_cast<float>(scores->reals[i]) : 0.0f;
    const int64_t type = types != nullptr ? types->integers[i] : 1;
    if (type < 1 || type > 6) {
      fail(meta, "tokenizer.ggml.token_type",
           "token " + std::to_string(i) + " has type " + std::to_string(type) + " (expected 1-6)");
    }
    p.type = static_cast<SpmPieceType>(type);
    if (p.type == SpmPieceType::kByte) spec.byte_fallback = true;
  }
  spec.unk_id = optional_id(meta, "tokenizer.ggml.unknown_token_id", 0, n);
  spec.bos_id = optional_id(meta, "tokenizer.ggml.bos_token_id", -1, n);
  spec.eos_id = optional_id(meta, "tokenizer.ggml.eos_token_id", -1, n);
  spec.pad_id = optional_id(meta, "tokenizer.ggml.padding_token_id", -1, n);
  if (spec.unk_id < 0)
    fail(meta, "tokenizer.ggml.unknown_token_id", "a SentencePiece model needs one");
  // sentencepiece finds its special tokens by piece and type: unknown once, bos/eos/pad control.
  for (auto& p : spec.pieces) {
    if (p.type == SpmPieceType::kUnknown) p.type = SpmPieceType::kControl;
  }
  spec.pieces[spec.unk_id].type = SpmPieceType::kUnknown;
  spec.unk_piece = spec.pieces[spec.unk_id].piece;
  auto special = [&](int id, std::string* piece, const char* key) {
    if (id < 0) return;
    if (id == spec.unk_id) fail(meta, key, "is the unknown token's id");
    spec.pieces[id].type = SpmPieceType::kControl;
    *piece = spec.pieces[id].piece;
  };
  special(spec.bos_id, &spec.bos_piece, "tokenizer.ggml.bos_token_id");
  special(spec.eos_id, &spec.eos_piece, "tokenizer.ggml.eos_token_id");
  special(spec.pad_id, &spec.pad_piece, "tokenizer.ggml.padding_token_id");
  spec.add_dummy_prefix = optional_bool(meta, "tokenizer.ggml.add_space_prefix", true);
  // llama.cpp never collapses whitespace for "llama" vocabularies; unigram ones say.
  spec.remove_extra_whitespaces =
      optional_bool(meta, "tokenizer.ggml.remove_extra_whitespaces", false);
  if (const GgufValue* map = meta.find("tokenizer.ggml.precompiled_charsmap")) {
    if (map->type != GgufType::kArray || !map->texts.empty() || !map->reals.empty()) {
      fail(meta, "tokenizer.ggml.precompiled_charsmap", "expected an array of bytes");
    }
    for (int64_t b : map->integers) spec.precompiled_charsmap.push_back(static_cast<char>(b));
  }
  spec.normalizer_name = spec.precompiled_charsmap.empty() ? "identity" : "nmt_nfkc";
  return spec;
}

void add_spm_vocab(const SpmModelSpec& spec, GgufWriter& out) {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  for (const auto& p : spec.pieces) {
    tokens.push_back(p.piece);
    scores.push_back(p.score);
    types.push_back(static_cast<int32_t>(p.type));
  }
  out.add_string("tokenizer.ggml.model", spec.model_type == 1 ? "t5" : "llama");
  out.add_strings("tokenizer.ggml.tokens", tokens);
  out.add_float32s("tokenizer.ggml.scores", scores);
  out.add_int32s("tokenizer.ggml.token_type", types);
  const auto count = static_cast<int>(spec.pieces.size());
  auto id = [&](const char* key, int value) {
    if (value >= 0 && value < count) out.add_uint32(key, static_cast<uint32_t>(value));
  };
  id("tokenizer.ggml.bos_token_id", spec.bos_id);
  id("tokenizer.ggml.eos_token_id", spec.eos_id);
  id("tokenizer.ggml.unknown_token_id", spec.unk_id);
  id("tokenizer.ggml.padding_token_id", spec.pad_id);
  out.add_bool("tokenizer.ggml.add_space_prefix", spec.add_dummy_prefix);
  out.add_bool("tokenizer.ggml.remove_extra_whitespaces", spec.remove_extra_whitespaces);
  if (!spec.precompiled_charsmap.empty()) {
    out.add_uint8s("tokenizer.ggml.precompiled_charsmap", spec.precompiled_charsmap);
  }
}

}  // namespace pplug::detail
