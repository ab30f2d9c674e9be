// Picks the next token of each row from its logits (greedy or sampled).
#pragma once

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include "pplug/generation.h"

namespace pplug::detail {

// logits (B, V) float32 -> token ids (B) int64. Greedy when temperature == 0.
torch::Tensor pick_tokens(const torch::Tensor& logits, const GenerationOptions& options,
                          at::Generator& generator);

// Rejects inconsistent options with an InvalidArgument naming the field.
void validate_options(const GenerationOptions& options);

}  // namespace pplug::detail
