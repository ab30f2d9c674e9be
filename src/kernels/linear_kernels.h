// Skinny matrix products for decoding: Y (M, N) = X (M, K) . W (N, K)^T with few rows M.
//
// At batch 1 a decode step is a chain of matrix-vector products, bound by how fast the weights
// stream from memory; BLAS/oneDNN paths for one row do not reach that bound here. These kernels
// read each weight once for all M rows in its stored type (kernels/weight_type.h), keep the
// activations in float32 and widen or dequantize the weights in registers, so smaller weight
// types read fewer bytes. The exception is the block-quantized types on AVX2, whose kernels
// quantize each activation row to Q8_0 blocks first (as llama.cpp does) and multiply in int8:
// results differ from float activations by ~0.5% of a block's dot product at most.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

#include "kernels/cpu_isa.h"
#include "kernels/weight_type.h"

namespace pplug::kernels {

// A row-major weight (N, K): `rows` rows of row_bytes(type, cols) bytes each, back to back.
struct WeightView {
  const void* data = nullptr;
  WeightType type = WeightType::kF32;
  int64_t rows = 0;  // N (output features)
  int64_t cols = 0;  // K (input features)
};

// A contiguous 2-D float32/bfloat16/float16 CPU tensor as a weight; throws InvalidArgument
// for anything else.
WeightView weight_view(const at::Tensor& w);

// Serial: for n in [n0, n1): y[m * ldy + n] (+)= dot(x[m * ldx .. + K], w[n]) for m < M.
void linear_rows(const float* x, int64_t ldx, int64_t m, const WeightView& w, int64_t n0,
                 int64_t n1, float* y, int64_t ldy, bool accumulate, Isa isa = best_isa());

// The same over all N rows, split across the intra-op threads (at::parallel_for).
void linear(const float* x, int64_t ldx, int64_t m, const WeightView& w, float* y, int64_t ldy,
            bool accumulate, Isa isa = best_isa());

// Tensor form for tests and benchmarks: x (M, K) float32 -> (M, N) float32.
at::Tensor linear(const at::Tensor& x, const at::Tensor& w, Isa isa = best_isa());
at::Tensor linear(const at::Tensor& x, const WeightView& w, Isa isa = best_isa());

// Rows per parallel task, so that a task is worth a thread hand-off (~64K multiply-adds).
int64_t linear_grain(int64_t m, int64_t k);

namespace detail {
// The x86 implementations of linear_rows (kernels/x86/), only called when the CPU has the
// instructions. AVX2: every weight type. AVX-512: float32 and bfloat16 with float32 FMAs, Q4_0;
// AVX512_BF16: vdpbf16ps on bfloat16 weights with activations split into two bf16 terms.
void linear_rows_avx2(const float* x, int64_t ldx, int64_t m, const WeightView& w, int64_t n0,
                      int64_t n1, float* y, int64_t ldy, bool accumulate);
void linear_rows_avx512(const float* x, int64_t ldx, int64_t m, const WeightView& w, int64_t n0,
                        int64_t n1, float* y, int64_t ldy, bool accumulate);
void linear_rows_avx512_bf16(const float* x, int64_t ldx, int64_t m, const WeightView& w,
                             int64_t n0, int64_t n1, float* y, int64_t ldy, bool accumulate);
// Q4_0 with 512-bit integer products (AVX-512 F/BW/DQ/VL), activations quantized as on AVX2.
void linear_rows_avx512_q4_0(const float* x, int64_t ldx, int64_t m, const WeightView& w,
                             int64_t n0, int64_t n1, float* y, int64_t ldy, bool accumulate);
}  // namespace detail

}  // namespace pplug::kernels
