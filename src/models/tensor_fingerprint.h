// Fingerprints that identify a model's exact weights independent of the compute dtype.
#pragma once

#include <torch/types.h>

#include <string>
#include <utility>
#include <vector>

#include "pplug/llama_config.h"

namespace pplug::detail {

// Hashes names, shapes and up to 65,536 evenly spaced values of each tensor, rounded to
// bfloat16 first, so float32 and bfloat16 loads of the same weights agree and loading stays
// fast (a full pass over 440 MB would dominate load time).
std::string fingerprint_tensors(const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                                const std::string& salt);
std::string fingerprint_model(const LlamaConfig& config,
                              const std::vector<std::pair<std::string, torch::Tensor>>& weights);

}  // namespace pplug::detail
