// Float32 matrix products for prefill (many rows at once) through oneDNN's sgemm.
//
// libtorch 1.13 sends float32 linear layers to the system BLAS; Debian's OpenBLAS 0.3.21 does
// not know these CPUs and runs its AVX2 kernels at about half the speed that oneDNN's AVX-512
// sgemm reaches (measured ~110 vs ~220 GFLOP/s on one core). libtorch already loads oneDNN
// (libdnnl) for its bf16 matmuls, so its C entry point is looked up at run time: no build
// dependency, and at::linear whenever it is absent.
#pragma once

#include <ATen/core/Tensor.h>

namespace pplug::kernels {

// True when dnnl_sgemm was found in the process.
bool have_onednn_sgemm();

// at::linear(x, w) without bias for x (..., K) and w (N, K). Float32 operands that need no
// gradient go through oneDNN (result to ~1e-6 relative of at::linear, summation order
// differs); anything else, including autograd, goes through at::linear.
at::Tensor dense_linear(const at::Tensor& x, const at::Tensor& w);

}  // namespace pplug::kernels
