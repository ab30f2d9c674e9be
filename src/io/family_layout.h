// Where a family's files store its weights differently from the layout LlamaModel takes (HF
// Llama names, q/k/v and gate/up apart, norm weights as the multipliers applied): the one
// place these differences are undone on read and redone on write, for HF folders and GGUF
// files alike.
#pragma once

#include <torch/types.h>

#include <string>
#include <utility>
#include <vector>

#include "pplug/llama_config.h"

namespace pplug::detail {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// Phi-3 stores each layer's q/k/v rows as one `self_attn.qkv_proj.weight` and gate/up as one
// `mlp.gate_up_proj.weight` (gate rows first). For a phi3 config, replaces them by the four
// HF Llama names (rows only: uint8 block rows split as well); FormatError naming `source` and
// the tensor when one is missing or has the wrong row count. Other families: unchanged.
void split_fused_projections(const LlamaConfig& config, NamedTensors* weights,
                             const std::string& source);
// The inverse, for writers: a phi3 model's q/k/v and gate/up joined into the fused names.
NamedTensors fuse_projections(const LlamaConfig& config, const NamedTensors& weights);

// Gemma's HF files hold w where its RMSNorm multiplies by 1 + w; pplug (and llama.cpp's GGUF
// files) hold 1 + w. Adds `delta` (+1 on read, -1 on write) to every RMSNorm weight of a gemma
// config, in float32; other families: unchanged.
void shift_norm_weights(const LlamaConfig& config, NamedTensors* weights, double delta);

}  // namespace pplug::detail
