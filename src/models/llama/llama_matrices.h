// The model's matrices as kernels::PackedWeight: LlamaModel keeps each as a plain tensor plus
// one model-wide storage type (its public header names no kernel types).
#pragma once

#include <torch/types.h>

#include <cstdint>

#include "kernels/packed_weight.h"

namespace pplug::detail {

// `type` is the model's matrix type; a matrix whose rows it cannot hold is stored as
// kernels::storage_type_for says.
inline kernels::PackedWeight packed_matrix(const torch::Tensor& data, uint8_t type, int64_t cols) {
  const auto stored = kernels::storage_type_for(static_cast<kernels::WeightType>(type), cols);
  return kernels::PackedWeight{data, stored, data.size(0), cols};
}

}  // namespace pplug::detail
