// Checks on tensors read from files, shared by the model, plug-in and user-embedding loaders.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>

namespace pplug::detail {

// The flat index of the first NaN or Inf in a floating tensor, or -1 when all are finite (and
// for integer tensors). Works in chunks: no temporary of the tensor's size.
int64_t first_non_finite(const torch::Tensor& t);

// Throws FormatError("<source>: tensor '<name>' holds a non-finite value (nan at flat index i)")
// unless every value of `t` is finite.
void require_finite(const torch::Tensor& t, const std::string& source, const std::string& name);

}  // namespace pplug::detail
