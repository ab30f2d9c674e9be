// Loading and saving Llama-family models.
//
// A model path is one of:
//  - a Hugging Face folder: config.json, model.safetensors (or model.safetensors.index.json with
//    its shards) and tokenizer.model or tokenizer.json; tensors in F32, F16 or BF16;
//  - a llama2.c version-0 checkpoint (`.bin`), with its SentencePiece model being the only
//    `*.model` file beside it; its interleaved RoPE layout is converted to the HF layout;
//  - a folder holding exactly one `.bin` and one `.model`.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

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
  std::shared_ptr<const LlamaModel> model;
  std::shared_ptr<const Tokenizer> tokenizer;  // null when load_tokenizer is false
  std::string weights_path;                    // the file or folder the weights came from
};

// A config plus weights under HF names in the HF layout, before the model is built.
struct RawModel {
  LlamaConfig config;
  std::vector<std::pair<std::string, torch::Tensor>> weights;
};

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
// Writes a llama2.c version-0 checkpoint (the inverse of read_llama2c).
void save_llama2c(const RawModel& model, const std::string& path);
// Random weights of the given shape (for tests and benchmarks): normal(0, init_std) matrices,
// unit norm weights, deterministic for a seed.
RawModel random_model(const LlamaConfig& config, uint64_t seed, double init_std = 0.02);

// The tokenizer that belongs to a model path: in a folder, tokenizer.model, else tokenizer.json,
// else the only *.model file (tokenizer.model wins over tokenizer.json here, so folders keep the
// tokenizer they loaded with before tokenizer.json was read); beside a file, the only *.model
// file in its folder. Throws FormatError naming the folder and what was looked for when there is
// none or more than one candidate.
std::string find_tokenizer(const std::string& model_path);

}  // namespace pplug
