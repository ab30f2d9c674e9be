#include "kernels/weight_arena.h"

#include <ATen/ATen.h>
#include <c10/core/CPUAllocator.h>

#ifdef __linux__
#include <sys/mman.h>
#endif

#include <algorithm>
#include <cstdlib>
#include <new>

namespace pplug::kernels {
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
      begin = reinterpret_cast<char*>(round_up(reinterpret_cast<uintptr_t>(base), kHugePage));
      ::madvise(begin, round_up(capacity, kHugePage), MADV_HUGEPAGE);  // advice only
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

}  // namespace pplug::kernels
