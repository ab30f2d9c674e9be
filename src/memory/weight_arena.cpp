#include "memory/weight_arena.h"

#include <ATen/ATen.h>

#ifdef __linux__
#include <sys/mman.h>
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25  // Linux 6.1; older glibc headers lack it
#endif
#endif

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <system_error>
#include <thread>
#include <unordered_set>

namespace pplug::memory {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kAlign = 64;

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

}  // namespace

// One mapping (or heap block); tensors hold it through a shared_ptr in their DataPtr context.
struct detail::ArenaRegion {
  char* base = nullptr;   // what was mapped/allocated
  size_t length = 0;      // mapped bytes (0: heap block)
  char* begin = nullptr;  // first usable byte (2 MB aligned when mapped)
  size_t capacity = 0;
  size_t used = 0;

  explicit ArenaRegion(size_t bytes) {
    capacity = round_up(std::max<size_t>(bytes, kAlign), kAlign);
#ifdef __linux__
    // Over-map by one huge page so the usable part can start on a 2 MB boundary.
    length = round_up(capacity, kHugePage) + kHugePage;
    void* p = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) {
      base = static_cast<char*>(p);
      const auto address = reinterpret_cast<uintptr_t>(base);
      begin = base + (round_up(address, kHugePage) - address);
      return;
    }
    length = 0;
#endif
    base = static_cast<char*>(std::aligned_alloc(kAlign, capacity));
    if (base == nullptr) throw std::bad_alloc();
    begin = base;
  }
  ~ArenaRegion() {
#ifdef __linux__
    if (length > 0) {
      ::munmap(base, length);
      return;
    }
#endif
    std::free(base);
  }
  ArenaRegion(const ArenaRegion&) = delete;
  ArenaRegion& operator=(const ArenaRegion&) = delete;
};

namespace {

// The DataPtr deleter of arena tensors; also how in_weight_arena recognises them.
void release_region(void* context) {
  delete static_cast<std::shared_ptr<detail::ArenaRegion>*>(context);
}

}  // namespace

WeightArena::WeightArena(size_t expected_bytes) : next_region_bytes_(expected_bytes) {}

WeightArena::~WeightArena() = default;

at::Tensor WeightArena::empty(at::IntArrayRef sizes, at::ScalarType dtype) {
  int64_t numel = 1;
  for (int64_t s : sizes) numel *= s;
  const size_t bytes = round_up(static_cast<size_t>(numel) * c10::elementSize(dtype), kAlign);
  if (regions_.empty() || regions_.back()->capacity - regions_.back()->used < bytes) {
    regions_.push_back(std::make_shared<detail::ArenaRegion>(std::max(bytes, next_region_bytes_)));
    next_region_bytes_ = std::max<size_t>(next_region_bytes_ / 4, size_t{8} << 20);
  }
  detail::ArenaRegion& region = *regions_.back();
  char* data = region.begin + region.used;
  region.used += bytes;
  auto* context = new std::shared_ptr<detail::ArenaRegion>(regions_.back());
  c10::DataPtr ptr(data, context, &release_region, c10::Device(c10::DeviceType::CPU));
  c10::Storage storage(c10::Storage::use_byte_size_t(),
                       static_cast<size_t>(numel) * c10::elementSize(dtype), std::move(ptr),
                       /*allocator=*/nullptr, /*resizable=*/false);
  std::vector<int64_t> strides(sizes.size(), 1);
  for (int64_t i = static_cast<int64_t>(sizes.size()) - 2; i >= 0; --i) {
    strides[i] = strides[i + 1] * std::max<int64_t>(1, sizes[i + 1]);
  }
  return at::empty({0}, at::TensorOptions().dtype(dtype)).set_(storage, 0, sizes, strides);
}

bool in_weight_arena(const at::Tensor& t) {
  return t.defined() && t.has_storage() && t.storage().data_ptr().get_deleter() == &release_region;
}

namespace {

struct Promotion {
  std::shared_ptr<detail::ArenaRegion> region;  // keeps the mapping alive
  size_t bytes;                                 // the filled part, rounded to 2 MB pages
};

// Advice, so khugepaged also moves the ranges over in time (and keeps them huge).
void advise(const std::vector<Promotion>& work) {
#ifdef __linux__
  for (const auto& [region, bytes] : work) ::madvise(region->begin, bytes, MADV_HUGEPAGE);
#else
  (void)work;
#endif
}

// Collapses each 2 MB page of each region now; a page the kernel cannot collapse stays as is.
void collapse(const std::vector<Promotion>& work) {
  advise(work);
#ifdef __linux__
  for (const auto& [region, bytes] : work) {
    for (size_t offset = 0; offset < bytes; offset += kHugePage) {
      ::madvise(region->begin + offset, kHugePage, MADV_COLLAPSE);  // EINVAL before Linux 6.1
    }
  }
#else
  (void)work;
#endif
}

}  // namespace

void promote_to_huge_pages(const std::vector<at::Tensor>& tensors, bool wait) {
  const char* setting = std::getenv("PPLUG_HUGE_PAGES");
  if (setting != nullptr && std::strcmp(setting, "0") == 0) return;
  std::vector<Promotion> work;
  std::unordered_set<const detail::ArenaRegion*> seen;
  for (const auto& t : tensors) {
    if (!in_weight_arena(t)) continue;
    const auto& region =
        *static_cast<std::shared_ptr<detail::ArenaRegion>*>(t.storage().data_ptr().get_context());
    if (region->length == 0 || !seen.insert(region.get()).second) continue;  // heap fallback
    work.push_back({region, round_up(region->used, kHugePage)});
  }
  if (work.empty()) return;
  if (wait) return collapse(work);
  try {
    std::thread(collapse, work).detach();
  } catch (const std::system_error&) {
    advise(work);  // no thread to spare: leave it to khugepaged
  }
}

}  // namespace pplug::memory
