// Matrix products of many rows (prefill, training) for every weight type.
//
// Float32 weights go to a GEMM: oneDNN's sgemm when libtorch has loaded it (looked up at run
// time: no build dependency), else at::linear (OpenBLAS). bfloat16 weights on CPUs with
// AVX512_BF16 go to at::linear, which oneDNN runs in bf16. Everything else (bf16 without native
// bf16 arithmetic, where libtorch's bf16 matmul is ~60x slower than float32; float16, which
// libtorch 1.13 cannot multiply on a CPU; Q8_0, Q4_0) is widened panel by panel into float32
// and multiplied there, so every type prefills at float32 GEMM speed. A few rows take the
// decode kernels instead (they read the weights once in their stored type).
#pragma once

#include <ATen/core/Tensor.h>

#include "kernels/packed_weight.h"

namespace pplug::kernels {

// at::linear(x, w) without bias for x (..., K) and w (N, K) -> (..., N) in x's dtype.
// Differentiable with respect to x (the weights never need a gradient): the backward pass
// multiplies by the same weights through the same panels.
at::Tensor dense_linear(const at::Tensor& x, const PackedWeight& w);
at::Tensor dense_linear(const at::Tensor& x, const at::Tensor& w);

}  // namespace pplug::kernels
