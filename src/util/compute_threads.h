// Process-wide settings that make libtorch's CPU ops fast here: intra-op threads that also
// bound OpenBLAS's own thread pool, and a malloc that keeps freed tensor memory for reuse.
#pragma once

namespace pplug::detail {

// libtorch's intra-op threads and, when libtorch runs on OpenBLAS's pthread build, OpenBLAS's
// pool too: at::set_num_threads does not reach it, and its idle workers spin in sched_yield
// beside a one-thread run (measured: a third of a training run's time).
void set_compute_threads(int threads);

// glibc returns large freed blocks to the kernel at once (mmap/trim), so every step of a loop
// of tensor ops page-faults its buffers back in; measured: a third of a training run spent in
// the kernel. Raises the mmap and trim thresholds once per process. No-op off glibc.
void keep_freed_tensor_memory();

}  // namespace pplug::detail
