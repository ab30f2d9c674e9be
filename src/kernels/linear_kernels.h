// Skinny matrix products for decoding: Y (M, N) = X (M, K) . W (N, K)^T with few rows M.
//
// At batch 1 a decode step is a chain of matrix-vector products, bound by how fast the weights
// stream from memory; BLAS/oneDNN paths for one row do not reach that bound here. These kernels
// read each weight once for all M rows, keep activations in float32 and convert bfloat16
// weights in registers, so bf16 models read half the bytes without losing activation precision.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

#include "kernels/cpu_isa.h"

namespace pplug::kernels {

// A row-major contiguous weight (N, K) in float32 or bfloat16.
struct WeightView {
  const void* data = nullptr;
  bool bf16 = false;  // false: float32
  int64_t rows = 0;   // N (output features)
  int64_t cols = 0;   // K (input features)
};

// Checks that `w` is a contiguous 2-D float32/bfloat16 CPU tensor; throws InvalidArgument if not.
WeightView weight_view(const at::Tensor& w);

// Serial: for n in [n0, n1): y[m * ldy + n] (+)= dot(x[m * ldx .. + K], w[n]) for m < M.
void linear_rows(const float* x, int64_t ldx, int64_t m, const WeightView& w, int64_t n0,
                 int64_t n1, float* y, int64_t ldy, bool accumulate, Isa isa = best_isa());

// The same over all N rows, split across the intra-op threads (at::parallel_for).
void linear(const float* x, int64_t ldx, int64_t m, const WeightView& w, float* y, int64_t ldy,
            bool accumulate, Isa isa = best_isa());

// Tensor form for tests and benchmarks: x (M, K) float32 -> (M, N) float32.
at::Tensor linear(const at::Tensor& x, const at::Tensor& w, Isa isa = best_isa());

// Rows per parallel task, so that a task is worth a thread hand-off (~64K multiply-adds).
int64_t linear_grain(int64_t m, int64_t k);

namespace detail {
// AVX-512 implementations of linear_rows, only called when the CPU has the instructions:
// float32 FMAs with bf16 weights widened in registers (linear_avx512.cpp), and vdpbf16ps on
// bf16 weights with the activations split into two bf16 terms (linear_avx512_bf16.cpp).
void linear_rows_avx512(const float* x, int64_t ldx, int64_t m, const WeightView& w, int64_t n0,
                        int64_t n1, float* y, int64_t ldy, bool accumulate);
void linear_rows_avx512_bf16(const float* x, int64_t ldx, int64_t m, const WeightView& w,
                             int64_t n0, int64_t n1, float* y, int64_t ldy, bool accumulate);
}  // namespace detail

}  // namespace pplug::kernels
