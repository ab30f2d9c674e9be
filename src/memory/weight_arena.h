// Memory for model weights: 2 MB-aligned regions that can be moved onto transparent huge pages.
//
// Decoding streams every weight once per token. With 4 KB pages that walk misses the TLB every
// few rows and measured ~20 GB/s on one core here; the same kernels on 2 MB pages reached
// ~35 GB/s (float32) and ~39 GB/s (bfloat16).
//
// Huge pages are not requested up front: on these VMs a fresh 2 MB page is often memory the
// hypervisor has reclaimed, and faulting 440 MB of them in took 0.1-1.0 s (4 KB pages: ~0.2 s),
// which would double the load time. Regions are filled on ordinary pages, and
// promote_to_huge_pages() then collapses them onto huge pages (MADV_COLLAPSE, Linux >= 6.1),
// by default from a background thread, so loading stays fast and decoding speeds up a moment
// later. Elsewhere, or with PPLUG_HUGE_PAGES=0, the memory simply stays on ordinary pages.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstddef>
#include <memory>
#include <vector>

namespace pplug::memory {

namespace detail {
struct ArenaRegion;
}  // namespace detail

// Not thread-safe: one loader fills an arena; the tensors it hands out are ordinary tensors.
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

// Moves the arena regions behind `tensors` (others are ignored) onto huge pages. The data must
// be written already: it is copied page by page. With `wait` false the work runs on a detached
// thread that holds the regions alive until it is done.
void promote_to_huge_pages(const std::vector<at::Tensor>& tensors, bool wait = false);

}  // namespace pplug::memory
