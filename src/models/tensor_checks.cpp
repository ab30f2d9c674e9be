#include "models/tensor_checks.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <sstream>

#include "pplug/error.h"

namespace pplug::detail {

int64_t first_non_finite(const torch::Tensor& t) {
  if (!t.defined() || !at::isFloatingType(t.scalar_type())) return -1;
  const auto flat = t.detach().contiguous().view({-1});
  constexpr int64_t kChunk = int64_t{1} << 20;
  for (int64_t begin = 0; begin < flat.numel(); begin += kChunk) {
    const auto part = flat.narrow(0, begin, std::min(kChunk, flat.numel() - begin));
    const auto bad = at::isfinite(part).logical_not();
    if (bad.any().item<bool>()) return begin + bad.nonzero()[0][0].item<int64_t>();
  }
  return -1;
}

void require_finite(const torch::Tensor& t, const std::string& source, const std::string& name) {
  const int64_t at_index = first_non_finite(t);
  if (at_index < 0) return;
  std::ostringstream value;
  value << t.detach().contiguous().view({-1})[at_index].item<double>();
  throw FormatError(source + ": tensor '" + name + "' holds a non-finite value (" + value.str() +
                    " at flat index " + std::to_string(at_index) + ")");
}

}  // namespace pplug::detail
