#include "util/compute_threads.h"

#include <dlfcn.h>

#include <mutex>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace pplug::detail {

void set_blas_threads(int threads) {
  // Looked up, not linked: libtorch may sit on another BLAS, which has no such symbol.
  using SetThreads = void (*)(int);
  if (auto* openblas =
          reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) {
    openblas(threads);
  }
}

void keep_freed_tensor_memory() {
#if defined(__GLIBC__)
  static std::once_flag once;
  std::call_once(once, [] {
    // Blocks up to 256 MB come from the heap and stay mapped after free; the heap's top is
    // returned to the kernel only past 1 GB free.
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
  });
#endif
}

}  // namespace pplug::detail
