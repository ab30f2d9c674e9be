// Matrix products of many rows (prefill, training) for every weight type.
//
// Float32 weights go to a GEMM: oneDNN's sgemm when libtorch has loaded it (looked up at run
// time: no build dependency), else at::linear (OpenBLAS). bfloat16 weights on CPUs with
// AVX512_BF16 go to at::linear, which oneDNN runs in bf16. Everything else (bf16 without native
// bf16 arithmetic, where libtorch's bf16 matmul is ~60x slower than float32; float16, which
// libtorch 1.13 cannot multiply on a CPU; Q8_0, Q4_0) is widened panel by panel into float32
// and multiplied there, so every type prefills at float32 GEMM speed; on CPUs with AVX512_BF16,
// inference (no gradient) widens Q8_0 and Q4_0 weights into bf16 panels instead and multiplies
// with oneDNN's bf16 GEMM (float32 sums): ~2x faster, each product within ~2^-8, well below the
// quantization's own error (PPLUG_PREFILL_BF16=0 turns it off). A few rows take the decode
// kernels instead (they read the weights once in their stored type).
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
