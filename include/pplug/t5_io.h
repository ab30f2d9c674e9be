// Loading T5 encoder-decoders (original T5, T5 v1.1, FlanT5).
//
// A T5 model path is one of:
//  - a Hugging Face folder whose config.json has model_type "t5": model.safetensors (or
//    model.safetensors.index.json with its shards), tensors in F32, F16 or BF16, and the
//    SentencePiece spiece.model (or any tokenizer find_tokenizer finds);
//  - a llama.cpp GGUF file of the "t5" architecture (F32, F16, BF16, Q8_0, Q4_0 tensors,
//    dequantized to the compute dtype) with its own "t5" vocabulary as the tokenizer.
// See docs/formats.md, "T5".
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "pplug/model_io.h"
#include "pplug/t5_config.h"
#include "pplug/t5_model.h"
#include "pplug/tokenizer.h"

namespace pplug {

// A config plus tensors under HF names, before the model is built.
struct RawT5Model {
  T5Config config;
  std::vector<std::pair<std::string, torch::Tensor>> weights;
};

struct LoadedT5Model {
  std::shared_ptr<const T5Model> model;
  std::shared_ptr<const Tokenizer> tokenizer;  // null when load_tokenizer is false
  std::string weights_path;                    // the file or folder the weights came from
};

// True when `path` is an HF folder with model_type "t5" or a GGUF file of the t5 architecture.
// Never throws for unreadable paths (false); a malformed config.json or GGUF header is false too,
// so that the loader that does handle the path reports the error.
bool is_t5_model(const std::string& path);

// Reads an HF folder (config.json with model_type "t5" and its safetensors).
RawT5Model read_hf_t5_model(const std::string& dir);
// Reads a GGUF file of llama.cpp's t5 architecture; FormatError naming the file and the key or
// tensor when a key is missing, a tensor is unknown, missing or of an unsupported type.
RawT5Model read_gguf_t5_model(const std::string& path);

// Builds the model (options.dtype: kFloat32 or kBFloat16; options.weight_type must be empty or
// name that dtype, "f32" / "bf16") and its tokenizer. The tokenizer may have fewer ids than
// vocab_size (HF pads T5's embedding to 32128 rows for 32000 pieces), never more.
LoadedT5Model load_t5_model(const std::string& path, const ModelLoadOptions& options = {});

// Writes an HF folder: config.json (T5ForConditionalGeneration), model.safetensors and, if
// given, a copy of a SentencePiece tokenizer as spiece.model.
void save_hf_t5_model(const RawT5Model& model, const std::string& dir,
                      const std::string& tokenizer_path = "");

// Random weights of the given shape (tests, benchmarks): normal(0, init_std) matrices and
// relative-position tables, unit norm weights, deterministic for a seed.
RawT5Model random_t5_model(const T5Config& config, uint64_t seed, double init_std = 0.05);

}  // namespace pplug
