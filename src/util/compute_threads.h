// Process-wide settings that make libtorch's CPU ops fast here: OpenBLAS's own thread pool
// bounded like libtorch's intra-op threads, and a malloc that keeps freed tensor memory for
// reuse. No libtorch here (part of pplug_base).
#pragma once

namespace pplug::detail {

// OpenBLAS's pool, when libtorch runs on OpenBLAS's pthread build: at::set_num_threads does
// not reach it, and its idle workers spin in sched_yield beside a one-thread run (measured: a
// third of a training run's time). Call it beside at::set_num_threads. No-op on other BLASes.
void set_blas_threads(int threads);

// glibc returns large freed blocks to the kernel at once (mmap/trim), so every step of a loop
// of tensor ops page-faults its buffers back in; measured: a third of a training run spent in
// the kernel. Raises the mmap and trim thresholds once per process. No-op off glibc.
void keep_freed_tensor_memory();

}  // namespace pplug::detail
