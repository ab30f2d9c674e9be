// The tensors of a Hugging Face folder, whatever the architecture: model.safetensors, or the
// shards model.safetensors.index.json names (see docs/formats.md).
#pragma once

#include <torch/types.h>

#include <string>
#include <utility>
#include <vector>

namespace pplug::detail {

// Every tensor (F32, F16 or BF16) under its name; FormatError naming the file and tensor when
// the folder holds neither file, a shard is missing a listed tensor, or a dtype is another.
std::vector<std::pair<std::string, torch::Tensor>> read_hf_weights(const std::string& dir);

}  // namespace pplug::detail
