#include "models/t5/t5_weights.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "models/tensor_checks.h"
#include "pplug/error.h"

namespace pplug::detail {
namespace {

std::string shape_string(at::IntArrayRef shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

T5WeightTable::T5WeightTable(const std::vector<std::pair<std::string, torch::Tensor>>& weights,
                             std::string source)
    : source_(std::move(source)) {
  for (const auto& [name, tensor] : weights) {
    if (!table_.emplace(name, tensor).second) {
      throw FormatError(source_ + ": tensor '" + name + "' is given twice");
    }
  }
}

torch::Tensor T5WeightTable::get(const std::string& name, const std::vector<int64_t>& shape,
                                 torch::Dtype dtype) {
  const auto it = table_.find(name);
  if (it == table_.end()) throw FormatError(source_ + ": missing tensor '" + name + "'");
  if (it->second.sizes() != at::IntArrayRef(shape)) {
    throw FormatError(source_ + ": tensor '" + name + "' has shape " +
                      shape_string(it->second.sizes()) + ", expected " + shape_string(shape));
  }
  if (!it->second.is_floating_point()) {
    throw FormatError(source_ + ": tensor '" + name + "' is not a floating-point tensor");
  }
  if (used_.insert(name).second) require_finite(it->second, source_, name);
  return it->second.detach().to(dtype).contiguous();
}

void T5WeightTable::require_all_used(const std::string& what) const {
  std::vector<std::string> unused;
  for (const auto& entry : table_) {
    if (used_.count(entry.first) == 0) unused.push_back(entry.first);
  }
  if (unused.empty()) return;
  std::sort(unused.begin(), unused.end());
  std::string list;
  for (size_t i = 0; i < unused.size() && i < 5; ++i) list += (i ? ", '" : "'") + unused[i] + "'";
  if (unused.size() > 5) list += " and " + std::to_string(unused.size() - 5) + " more";
  throw FormatError(source_ + ": " + std::to_string(unused.size()) + " unexpected tensor(s) for " +
                    what + " (does the config disagree with the weights?): " + list);
}

}  // namespace pplug::detail
