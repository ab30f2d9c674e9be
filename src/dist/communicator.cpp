// Communicator: the public collectives over GlooGroup. Inputs are checked here, on every rank and
// at every world size, so that a single-process run refuses what a multi-process one would.
#include <ATen/ATen.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <sstream>

#include "dist/gloo_group.h"
#include "pplug/distributed.h"
#include "pplug/error.h"

namespace pplug {
namespace {

std::string tensor_error(const std::string& op, size_t index, const std::string& problem) {
  return op + ": tensor " + std::to_string(index) + " " + problem;
}

void check_cpu_dense(const std::string& op, size_t index, const at::Tensor& t) {
  if (!t.defined()) throw InvalidArgument(tensor_error(op, index, "is undefined"));
  if (!t.device().is_cpu() || t.layout() != at::kStrided) {
    throw InvalidArgument(tensor_error(op, index, "must be a dense CPU tensor"));
  }
}

// Tensors grouped by dtype, in order of first appearance (the same order on every rank, since
// every rank passes the same list), with their positions in the caller's list.
std::vector<std::vector<size_t>> group_by_dtype(const std::vector<at::Tensor>& tensors) {
  std::vector<std::vector<size_t>> groups;
  std::vector<at::ScalarType> dtypes;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto found = std::find(dtypes.begin(), dtypes.end(), tensors[i].scalar_type());
    if (found == dtypes.end()) {
      dtypes.push_back(tensors[i].scalar_type());
      groups.push_back({i});
    } else {
      groups[static_cast<size_t>(found - dtypes.begin())].push_back(i);
    }
  }
  return groups;
}

int64_t total_numel(const std::vector<at::Tensor>& tensors, const std::vector<size_t>& group) {
  int64_t total = 0;
  for (size_t i : group) total += tensors[i].numel();
  return total;
}

// Copies the group's tensors, in order, into `flat` (a 1-D buffer of their total size).
void pack(const std::vector<at::Tensor>& tensors, const std::vector<size_t>& group,
          at::Tensor& flat) {
  int64_t offset = 0;
  for (size_t i : group) {
    const int64_t n = tensors[i].numel();
    flat.narrow(0, offset, n).view(tensors[i].sizes()).copy_(tensors[i]);
    offset += n;
  }
}

// The inverse of pack, dividing by `divisor` on the way (1 = a plain copy): one pass over the
// memory instead of two, which shows on buffers of many megabytes.
void unpack(const at::Tensor& flat, std::vector<at::Tensor>& tensors,
            const std::vector<size_t>& group, int divisor) {
  int64_t offset = 0;
  const at::Tensor scalar = at::scalar_tensor(divisor, flat.options());
  for (size_t i : group) {
    const int64_t n = tensors[i].numel();
    const at::Tensor piece = flat.narrow(0, offset, n).view(tensors[i].sizes());
    if (divisor == 1) {
      tensors[i].copy_(piece);
    } else {
      at::div_out(tensors[i], piece, scalar);
    }
    offset += n;
  }
}

// A group of one contiguous tensor needs no flat copy: the collective runs on it directly.
bool needs_packing(const std::vector<at::Tensor>& tensors, const std::vector<size_t>& group) {
  return group.size() > 1 || !tensors[group.front()].is_contiguous();
}

// The dtypes ProcessGroupGloo's collectives are compiled for.
bool gloo_carries(at::ScalarType dtype) {
  switch (dtype) {
    case at::kFloat:
    case at::kDouble:
    case at::kHalf:
    case at::kChar:
    case at::kByte:
    case at::kInt:
    case at::kLong:
      return true;
    default:
      return false;
  }
}

std::string shown_value(const std::string& value) {
  constexpr size_t kShown = 120;  // a fingerprint or hash fits; a long text is cut
  if (value.size() <= kShown) return "\"" + value + "\"";
  return "\"" + value.substr(0, kShown) + "...\" (" + std::to_string(value.size()) + " bytes)";
}

}  // namespace

class Communicator::Impl {
 public:
  explicit Impl(const DistributedConfig& config) : config_(config) {
    validate(config);
    if (config.world_size > 1) group_ = std::make_unique<dist::GlooGroup>(config);
  }

  void allreduce_mean(std::vector<at::Tensor>& tensors) {
    const std::string op = "allreduce_mean";
    for (size_t i = 0; i < tensors.size(); ++i) {
      check_cpu_dense(op, i, tensors[i]);
      const auto dtype = tensors[i].scalar_type();
      if (dtype != at::kFloat && dtype != at::kDouble) {
        throw InvalidArgument(tensor_error(
            op, i,
            std::string("has dtype ") + c10::toString(dtype) + "; expected float32 or float64"));
      }
    }
    if (!group_) return;      // the mean over one rank
    at::NoGradGuard no_grad;  // parameters as well as gradients may be averaged
    for (const auto& group : group_by_dtype(tensors)) {
      const int64_t total = total_numel(tensors, group);
      if (total == 0) continue;
      if (!needs_packing(tensors, group)) {
        at::Tensor flat = tensors[group.front()].view({-1});
        group_->allreduce_sum(flat, op);
        flat.div_(config_.world_size);
        continue;
      }
      at::Tensor flat = scratch(tensors[group.front()].scalar_type(), total);
      pack(tensors, group, flat);
      group_->allreduce_sum(flat, op);
      unpack(flat, tensors, group, config_.world_size);
    }
  }

  void allreduce_sum(at::Tensor& tensor) {
    const std::string op = "allreduce_sum";
    check_cpu_dense(op, 0, tensor);
    const auto dtype = tensor.scalar_type();
    if (dtype != at::kFloat && dtype != at::kDouble && dtype != at::kInt && dtype != at::kLong) {
      throw InvalidArgument(tensor_error(
          op, 0,
          std::string("has dtype ") + c10::toString(dtype) + "; expected float32/64 or int32/64"));
    }
    if (!group_ || tensor.numel() == 0) return;
    at::NoGradGuard no_grad;
    at::Tensor buffer = tensor.is_contiguous() ? tensor : tensor.contiguous();
    group_->allreduce_sum(buffer, op);
    if (!buffer.is_same(tensor)) tensor.copy_(buffer);
  }

  void broadcast(std::vector<at::Tensor>& tensors, int root) {
    const std::string op = "broadcast";
    if (root < 0 || root >= config_.world_size) {
      throw InvalidArgument(op + ": root must be in [0, " + std::to_string(config_.world_size - 1) +
                            "], got " + std::to_string(root));
    }
    for (size_t i = 0; i < tensors.size(); ++i) {
      check_cpu_dense(op, i, tensors[i]);
      if (!gloo_carries(tensors[i].scalar_type())) {
        throw InvalidArgument(
            tensor_error(op, i,
                         std::string("has dtype ") + c10::toString(tensors[i].scalar_type()) +
                             "; Gloo carries float32/64, float16, int8, uint8, int32 and int64"));
      }
    }
    if (!group_) return;
    at::NoGradGuard no_grad;
    for (const auto& group : group_by_dtype(tensors)) {
      const int64_t total = total_numel(tensors, group);
      if (total == 0) continue;
      if (!needs_packing(tensors, group)) {
        at::Tensor flat = tensors[group.front()].view({-1});
        group_->broadcast(flat, root, op);
        continue;
      }
      at::Tensor flat = scratch(tensors[group.front()].scalar_type(), total);
      if (config_.rank == root) pack(tensors, group, flat);
      group_->broadcast(flat, root, op);
      if (config_.rank != root) unpack(flat, tensors, group, 1);
    }
  }

  void barrier() {
    if (group_) group_->barrier("barrier");
  }

  // Two allgathers: the lengths, then every string padded to the longest.
  std::vector<std::string> all_gather_strings(const std::string& mine, const std::string& op) {
    if (!group_) return {mine};
    at::Tensor length = at::full({1}, static_cast<int64_t>(mine.size()), at::kLong);
    const auto lengths = group_->allgather(length, op);
    int64_t longest = 0;
    for (const auto& l : lengths) longest = std::max(longest, l.item<int64_t>());
    std::vector<std::string> values(lengths.size());
    if (longest == 0) return values;
    at::Tensor padded = at::zeros({longest}, at::kByte);  // (longest,)
    std::memcpy(padded.data_ptr<uint8_t>(), mine.data(), mine.size());
    const auto gathered = group_->allgather(padded, op);
    for (size_t r = 0; r < gathered.size(); ++r) {
      const auto* bytes = reinterpret_cast<const char*>(gathered[r].data_ptr<uint8_t>());
      values[r].assign(bytes, static_cast<size_t>(lengths[r].item<int64_t>()));
    }
    return values;
  }

  void check_same(const std::string& what, const std::string& value) {
    const auto values = all_gather_strings(value, "check_same(" + what + ")");
    if (std::all_of(values.begin(), values.end(), [&](const auto& v) { return v == values[0]; })) {
      return;
    }
    // Each distinct value with the ranks holding it, in order of first appearance.
    std::vector<std::pair<std::string, std::vector<int>>> distinct;
    for (int r = 0; r < static_cast<int>(values.size()); ++r) {
      auto it = std::find_if(distinct.begin(), distinct.end(),
                             [&](const auto& d) { return d.first == values[r]; });
      if (it == distinct.end()) {
        distinct.push_back({values[r], {r}});
      } else {
        it->second.push_back(r);
      }
    }
    std::ostringstream message;
    message << what << " differs across ranks:";
    for (size_t i = 0; i < distinct.size(); ++i) {
      const auto& ranks = distinct[i].second;
      message << (i == 0 ? " " : "; ") << (ranks.size() == 1 ? "rank " : "ranks ");
      for (size_t k = 0; k < ranks.size(); ++k) message << (k == 0 ? "" : ", ") << ranks[k];
      message << (ranks.size() == 1 ? " has " : " have ") << shown_value(distinct[i].first);
    }
    throw MismatchError(message.str());
  }

  const DistributedConfig& config() const { return config_; }

 private:
  // A flat (numel,) buffer of `dtype`, kept between calls: a training loop averages the same
  // gradients every step, and a fresh buffer of many megabytes would be page-faulted in (and
  // handed back to the kernel) each time.
  at::Tensor scratch(at::ScalarType dtype, int64_t numel) {
    at::Tensor& buffer = scratch_[dtype];
    if (!buffer.defined() || buffer.numel() < numel) buffer = at::empty({numel}, at::dtype(dtype));
    return buffer.narrow(0, 0, numel);
  }

  DistributedConfig config_;
  std::unique_ptr<dist::GlooGroup> group_;  // null at world size 1
  std::map<at::ScalarType, at::Tensor> scratch_;
};

Communicator::Communicator(const DistributedConfig& config)
    : impl_(std::make_unique<Impl>(config)) {}
Communicator::~Communicator() = default;
Communicator::Communicator(Communicator&&) noexcept = default;
Communicator& Communicator::operator=(Communicator&&) noexcept = default;

int Communicator::rank() const { return impl_->config().rank; }
int Communicator::world_size() const { return impl_->config().world_size; }

void Communicator::allreduce_mean(std::vector<torch::Tensor>& tensors) {
  impl_->allreduce_mean(tensors);
}
void Communicator::allreduce_sum(torch::Tensor& tensor) { impl_->allreduce_sum(tensor); }
void Communicator::broadcast(std::vector<torch::Tensor>& tensors, int root) {
  impl_->broadcast(tensors, root);
}
void Communicator::barrier() { impl_->barrier(); }
std::vector<std::string> Communicator::all_gather_strings(const std::string& mine) {
  return impl_->all_gather_strings(mine, "all_gather_strings");
}
void Communicator::check_same(const std::string& what, const std::string& value) {
  impl_->check_same(what, value);
}

}  // namespace pplug
