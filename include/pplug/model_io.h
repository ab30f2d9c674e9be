// Loading and saving Llama-family models.
//
// A model path is one of:
//  - a Hugging Face folder: config.json, model.safetensors (or model.safetensors.index.json with
//    its shards) and tokenizer.model or tokenizer.json; tensors in F32, F16 or BF16;
//  - a llama2.c version-0 checkpoint (`.bin`), with its SentencePiece model being the only
//    `*.model` file beside it; its interleaved RoPE layout is converted to the HF layout;
//  - a folder holding exactly one `.bin` and one `.model`;
//  - a llama.cpp GGUF file of the llama architecture, its tensors in F32, F16, BF16, Q8_0 or
//    Q4_0, with its own vocabulary as the tokenizer (SentencePiece "llama" or byte-level BPE
//    "gpt2"); quantized matrices are used in their stored bytes, not re-quantized.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "pplug/language_model.h"
#include "pplug/llama_config.h"
#include "pplug/llama_model.h"
#include "pplug/tokenizer.h"

namespace pplug {

struct ModelLoadOptions {
  torch::Dtype dtype = torch::kFloat32;  // compute dtype: kFloat32 or kBFloat16
  // How the layer matrices are stored: "" (the compute dtype), "f32", "bf16", "f16", "q8_0" or
  // "q4_0" (see LlamaModel). Quantizing at load keeps the model's fingerprint.
  std::string weight_type;
  // Any file pplug::Tokenizer reads (or a folder with tokenizer.json); empty: found beside the
  // model (find_tokenizer).
  std::string tokenizer_path;
  bool load_tokenizer = true;  // false: do not look for a tokenizer at all
};

struct LoadedModel {
  // The decoder-only model; null for an encoder-decoder (T5), which only language_model holds.
  std::shared_ptr<const LlamaModel> model;
  std::shared_ptr<const Tokenizer> tokenizer;  // null when load_tokenizer is false
  std::string weights_path;                    // the file or folder the weights came from
  // The model behind the architecture-neutral interface (see language_model_of).
  std::shared_ptr<const LanguageModel> language_model;
};

// The architecture-neutral view of a loaded model: its language_model, or `model` wrapped when a
// LoadedModel was assembled by hand from a LlamaModel; null when it holds neither.
std::shared_ptr<const LanguageModel> language_model_of(const LoadedModel& llm);

// A config plus weights under HF names in the HF layout, before the model is built.
struct RawModel {
  LlamaConfig config;
  std::vector<std::pair<std::string, torch::Tensor>> weights;
  // "q8_0" or "q4_0" when some matrices are kept in that block-quantized layout: those are uint8
  // (rows, bytes per row) tensors (a GGUF file's own bytes); every other weight is float. Empty
  // when all weights are float.
  std::string quantized_type;
  // How the file stores its matrices when that should be kept ("f16", "bf16", "q8_0", "q4_0";
  // GGUF files say): load_model's default weight_type. Empty: the compute dtype.
  std::string stored_type;
};

// Loads any model pplug runs: the Llama family in the forms listed above, and T5
// encoder-decoders (HF folders with model_type "t5", GGUF files of the t5 architecture; see
// t5_io.h), whose LoadedModel has no `model` but a language_model.
LoadedModel load_model(const std::string& path, const ModelLoadOptions& options = {});

// Reads a llama2.c version-0 checkpoint; throws FormatError on a bad header or wrong size.
RawModel read_llama2c(const std::string& path);
// Reads an HF folder's config.json and safetensors (single file or sharded).
RawModel read_hf_model(const std::string& dir);

// Writes an HF folder (config.json, model.safetensors, and a copy of the tokenizer if given: a
// SentencePiece model as tokenizer.model; a tokenizer.json, or its folder, as tokenizer.json
// plus the tokenizer_config.json beside it; a GGUF vocabulary is refused with InvalidArgument).
void save_hf_model(const RawModel& model, const std::string& dir,
                   const std::string& tokenizer_path = "");
// Reads a GGUF file of the llama architecture (see above); FormatError naming the file and the
// key or tensor when it is malformed, of another architecture, or holds a tensor type pplug does
// not read (K-quants and the like: re-quantize with llama-quantize --pure to Q8_0 or Q4_0).
RawModel read_gguf_model(const std::string& path);
// Writes a GGUF file llama.cpp runs: the llama architecture, q/k rows in its (interleaved) RoPE
// layout, matrices and the token embedding stored as `weight_type` ("f32", "f16", "bf16",
// "q8_0" or "q4_0"; rows whose length is not a multiple of 32 fall back to f16, as
// llama-quantize does), norms in f32. `tokenizer_path`, if given, must be a SentencePiece .model
// (or a GGUF with a SentencePiece vocabulary); its vocabulary goes into the file
// (tokenizer.ggml.*). A quantized `model` is written from its
// dequantized weights.
void save_gguf_model(const RawModel& model, const std::string& path,
                     const std::string& weight_type = "f32",
                     const std::string& tokenizer_path = "");
// Reads whichever model format `path` is (the list at the top of this file) without building
// the model; `weights_path` receives the file or folder the weights came from.
RawModel read_model(const std::string& path, std::string* weights_path = nullptr);
// `model` with its quantized matrices (see RawModel::quantized_type) turned into float32.
RawModel dequantized(RawModel model);

// Writes a llama2.c version-0 checkpoint (the inverse of read_llama2c).
void save_llama2c(const RawModel& model, const std::string& path);
// Random weights of the given shape (for tests and benchmarks): normal(0, init_std) matrices
// and biases, unit norm weights (Qwen3's q/k norms: 1 + normal(0, 10 init_std), so that they
// differ), deterministic for a seed.
RawModel random_model(const LlamaConfig& config, uint64_t seed, double init_std = 0.02);

// The tokenizer that belongs to a model path: a GGUF file is its own; in a folder, tokenizer.model,
// else tokenizer.json, else the only *.model file (tokenizer.model wins over tokenizer.json here,
// so folders keep the tokenizer they loaded with before tokenizer.json was read); beside a file,
// the only *.model file in its folder. Throws FormatError naming the folder and what was looked for
// when there is none or more than one candidate.
std::string find_tokenizer(const std::string& model_path);

}  // namespace pplug
