// Memory for model weights: large regions advised for transparent huge pages.
//
// Decoding streams every weight once per token. With 4 KB pages that walk misses the TLB every
// few rows and measured ~20 GB/s on one core here; the same kernels on 2 MB pages reached
// ~35 GB/s (float32) and ~39 GB/s (bfloat16). Loading also takes ~500x fewer page faults.
// Linux only honours the advice when transparent_hugepage is "madvise" or "always"; elsewhere
// (or when mmap fails) the arena falls back to ordinary memory.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstddef>
#include <memory>
#include <vector>

namespace pplug::kernels {

namespace detail {
struct ArenaRegion;
}  // namespace detail

class WeightArena {
 public:
  // `expected_bytes`: the total the caller will take; more is allowed (another region is added).
  explicit WeightArena(size_t expected_bytes);
  ~WeightArena();
  WeightArena(const WeightArena&) = delete;
  WeightArena& operator=(const WeightArena&) = delete;

  // An uninitialised contiguous tensor carved from the arena (64-byte aligned). It keeps its
  // region alive on its own, so tensors may outlive the arena object.
  at::Tensor empty(at::IntArrayRef sizes, at::ScalarType dtype);

 private:
  std::vector<std::shared_ptr<detail::ArenaRegion>> regions_;
  size_t next_region_bytes_;
};

// True when `t`'s memory comes from a WeightArena (any view of such memory counts).
bool in_weight_arena(const at::Tensor& t);

}  // namespace pplug::kernels
