// libtorch's ProcessGroupGloo behind pplug's failure rules: start-up and every operation wait at
// most the configured timeout, a failure names the ranks that did not answer (failure_report.h),
// and after one the group refuses further work. The only file that sees the process group.
#pragma once

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include "pplug/distributed.h"

namespace pplug::dist {

class GlooGroup {
 public:
  // Opens the store, waits for every rank to join, connects the Gloo pairs, and returns once
  // every rank has (a barrier). Throws pplug::Error naming missing ranks.
  explicit GlooGroup(const DistributedConfig& config);
  ~GlooGroup();
  GlooGroup(const GlooGroup&) = delete;
  GlooGroup& operator=(const GlooGroup&) = delete;

  // Each takes the public operation's name for its error messages. Tensors are contiguous CPU
  // tensors of a dtype Gloo carries, with equal shapes on every rank.
  void allreduce_sum(at::Tensor& tensor, const std::string& op);
  void broadcast(at::Tensor& tensor, int root, const std::string& op);
  std::vector<at::Tensor> allgather(const at::Tensor& tensor, const std::string& op);
  void barrier(const std::string& op);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace pplug::dist
