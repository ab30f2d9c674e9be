// The tensors a T5 model is built from, looked up by HF name with shape and finiteness checks,
// and a check that every tensor of the file found a use.
#pragma once

#include <torch/types.h>

#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace pplug::detail {

class T5WeightTable {
 public:
  T5WeightTable(const std::vector<std::pair<std::string, torch::Tensor>>& weights,
                std::string source);
  bool has(const std::string& name) const { return table_.count(name) > 0; }
  // The tensor `name` of shape `shape` converted to `dtype`; FormatError naming the source and
  // tensor when it is missing, of another shape, or holds a NaN or Inf.
  torch::Tensor get(const std::string& name, const std::vector<int64_t>& shape, torch::Dtype dtype);
  // Marks `name` as deliberately ignored (a tied head's stored copy, say).
  void ignore(const std::string& name) { used_.insert(name); }
  // FormatError listing the tensors nothing used (a config that disagrees with the weights).
  void require_all_used(const std::string& what) const;

 private:
  std::string source_;
  std::unordered_map<std::string, torch::Tensor> table_;
  std::set<std::string> used_;
};

}  // namespace pplug::detail
