#include "kernels/dense_linear.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <dlfcn.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <vector>

#include "pplug/error.h"

namespace pplug::kernels {
namespace {

// oneDNN's row-major sgemm (dnnl.h, stable C API since 1.0):
// C (M, N) = alpha * op(A) * op(B) + beta * C.
using SgemmFn = int (*)(char transa, char transb, int64_t m, int64_t n, int64_t k, float alpha,
                        const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
                        float* c, int64_t ldc);

SgemmFn find_sgemm() {
  const char* off = std::getenv("PPLUG_NO_ONEDNN_SGEMM");
  if (off != nullptr && off[0] == '1') return nullptr;
  return reinterpret_cast<SgemmFn>(::dlsym(RTLD_DEFAULT, "dnnl_sgemm"));
}

SgemmFn sgemm() {
  static const SgemmFn fn = find_sgemm();
  return fn;
}

// oneDNN's row-major bf16 GEMM with a float32 result: C = alpha * op(A) * op(B) + beta * C.
using GemmBf16Fn = int (*)(char transa, char transb, int64_t m, int64_t n, int64_t k, float alpha,
                           const uint16_t* a, int64_t lda, const uint16_t* b, int64_t ldb,
                           float beta, float* c, int64_t ldc);

// Null without oneDNN, and when PPLUG_NO_ONEDNN_SGEMM=1 turned oneDNN off.
GemmBf16Fn gemm_bf16() {
  static const GemmBf16Fn fn =
      sgemm() == nullptr
          ? nullptr
          : reinterpret_cast<GemmBf16Fn>(::dlsym(RTLD_DEFAULT, "dnnl_gemm_bf16bf16f32"));
  return fn;
}

// Rows up to which the skinny decode kernels beat widening the weights into panels: they read
// each weight once for every row, so their cost grows with M while a GEMM's barely does.
constexpr int64_t kSkinnyRows = 4;

// Rows per part when N rows are cut into parts of at most `most` rows (a multiple of 16), every
// thread getting as many parts as the others.
int64_t rows_per_part(int64_t n, int64_t most) {
  const int64_t threads = at::get_num_threads();
  const int64_t per_thread = (n + threads - 1) / threads;
  const int64_t parts_per_thread = (per_thread + most - 1) / most;
  return std::max<int64_t>(16,
                           ((per_thread + parts_per_thread - 1) / parts_per_thread + 15) / 16 * 16);
}

// Weight rows widened per panel of an (N, K) weight: about 1 MB of float32 (one-thread sgemm
// calls on fewer rows spent their time on call and packing overheads: 110M f16 prefill, one
// thread, 327 tok/s with 256 KB panels, 450 with 1 MB, 447 with 4 MB), made equal in count on
// every thread (2 threads: 747 -> 808-844 tok/s, where 768 rows made three panels for two
// threads).
int64_t panel_rows(int64_t k, int64_t n) {
  return rows_per_part(n, std::max<int64_t>(16, (int64_t{1} << 20) / (4 * k) / 16 * 16));
}

// Inference with block-quantized weights on AVX512_BF16 CPUs goes through bf16 panels: ~2.2x
// the float32 panels' speed (110M q8_0 prefill, one thread: 742 vs 338 tok/s). Rounding the
// activations and the widened weights to bf16 (2^-9 relative each) stays well below what the
// quantization already costs (a Q8_0 step is 2^-7 of a block's largest weight; on the tiny model
// of WeightTypeModels, relative logit error against float32 weights 1.18e-2 vs 1.20e-2 with
// float32 panels) and is of the order of llama.cpp's own 8-bit activations. Float16 weights are
// not rounded so: bf16 panels made their logits 9x less precise (4.5e-3 vs 5e-4). Decoding (the
// skinny kernels) and training (exact) keep float32 arithmetic. PPLUG_PREFILL_BF16=0 keeps the
// float32 panels.
bool use_bf16_panels(WeightType type) {
  static const bool allowed = [] {
    const char* env = std::getenv("PPLUG_PREFILL_BF16");
    return !(env != nullptr && env[0] == '0') && gemm_bf16() != nullptr &&
           best_isa() >= Isa::kAvx512Bf16;
  }();
  return allowed && is_block_quantized(type);
}

// y (M, N) = x (M, K) . w^T for float32 contiguous x, through float32 panels of w, or, with
// `in_bf16` (use_bf16_panels), bfloat16 panels and oneDNN's bf16 GEMM with float32 sums: the
// activations and the widened weights are then rounded to bf16 (2^-9 relative each).
void panel_forward(const float* x, int64_t m, const WeightView& w, float* y, bool in_bf16) {
  const int64_t k = w.cols, n = w.rows, rows = panel_rows(k, n);
  const int64_t panels = (n + rows - 1) / rows;
  if (sgemm() != nullptr) {
    std::vector<uint16_t> x_bf16(in_bf16 ? m * k : 0);
    if (in_bf16) float_to_bf16(x, m * k, x_bf16.data());
    // Each thread widens its panels and multiplies them with a one-thread GEMM (nested inside
    // the parallel region), so widening and multiplying overlap across threads.
    at::parallel_for(0, panels, 1, [&](int64_t p0, int64_t p1) {
      thread_local std::vector<float> panel;
      thread_local std::vector<uint16_t> panel_bf16;
      if (panel.size() < static_cast<size_t>(rows * k)) panel.resize(rows * k);
      if (in_bf16 && panel_bf16.size() < static_cast<size_t>(rows * k)) {
        panel_bf16.resize(rows * k);
      }
      for (int64_t p = p0; p < p1; ++p) {
        const int64_t n0 = p * rows, n1 = std::min(n, n0 + rows);
        dequantize_rows(w, n0, n1, panel.data());
        if (in_bf16) {
          float_to_bf16(panel.data(), (n1 - n0) * k, panel_bf16.data());
          gemm_bf16()('N', 'T', m, n1 - n0, k, 1.0f, x_bf16.data(), k, panel_bf16.data(), k, 0.0f,
                      y + n0, n);
        } else {
          sgemm()('N', 'T', m, n1 - n0, k, 1.0f, x, k, panel.data(), k, 0.0f, y + n0, n);
        }
      }
    });
    return;
  }
  // No oneDNN (so no bf16 GEMM either): widen everything, then one BLAS call.
  auto dense = at::empty({n, k}, at::kFloat);
  at::parallel_for(0, n, rows, [&](int64_t n0, int64_t n1) {
    dequantize_rows(w, n0, n1, dense.data_ptr<float>() + n0 * k);
  });
  auto out = at::from_blob(y, {m, n}, at::kFloat);
  at::mm_out(out, at::from_blob(const_cast<float*>(x), {m, k}, at::kFloat), dense.t());
}

// dx (M, K) = dy (M, N) . w for float32 contiguous dy.
at::Tensor panel_backward(const at::Tensor& dy, const WeightView& w) {
  const int64_t k = w.cols, n = w.rows, rows = panel_rows(k, n);
  auto dx = at::zeros({dy.size(0), k}, at::kFloat);
  auto panel = at::empty({rows, k}, at::kFloat);
  for (int64_t n0 = 0; n0 < n; n0 += rows) {
    const int64_t count = std::min(rows, n - n0);
    at::parallel_for(0, count, 16, [&](int64_t r0, int64_t r1) {
      dequantize_rows(w, n0 + r0, n0 + r1, panel.data_ptr<float>() + r0 * k);
    });
    dx.addmm_(dy.narrow(1, n0, count), panel.narrow(0, 0, count));
  }
  return dx;
}

// (M, K) float32 -> (M, N) float32 without autograd. `exact`: float32 panels only, as the
// backward pass multiplies (training keeps its forward and backward products alike).
at::Tensor packed_forward(const at::Tensor& x2d, const PackedWeight& w, bool exact) {
  auto x = x2d.to(at::kFloat).contiguous();
  const int64_t m = x.size(0);
  auto y = at::empty({m, w.rows}, at::kFloat);
  if (m == 0) return y;
  if (m <= kSkinnyRows) {
    linear(x.data_ptr<float>(), w.cols, m, w.view(), y.data_ptr<float>(), w.rows, false);
  } else {
    panel_forward(x.data_ptr<float>(), m, w.view(), y.data_ptr<float>(),
                  !exact && use_bf16_panels(w.type));
  }
  return y;
}

// y = x . w^T with the gradient flowing to x; the weight travels as its tensor plus its type.
struct PackedLinear : public torch::autograd::Function<PackedLinear> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x2d,
                            const at::Tensor& data, int64_t type, int64_t rows, int64_t cols) {
    ctx->saved_data["data"] = data;
    ctx->saved_data["type"] = type;
    ctx->saved_data["rows"] = rows;
    ctx->saved_data["cols"] = cols;
    ctx->saved_data["dtype"] = static_cast<int64_t>(x2d.scalar_type());
    const PackedWeight w{data, static_cast<WeightType>(type), rows, cols};
    return packed_forward(x2d, w, /*exact=*/true).to(x2d.scalar_type());
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const PackedWeight w{ctx->saved_data["data"].toTensor(),
                         static_cast<WeightType>(ctx->saved_data["type"].toInt()),
                         ctx->saved_data["rows"].toInt(), ctx->saved_data["cols"].toInt()};
    const auto dtype = static_cast<at::ScalarType>(ctx->saved_data["dtype"].toInt());
    auto dx = panel_backward(grads[0].to(at::kFloat).contiguous(), w.view()).to(dtype);
    return {dx, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

at::Tensor sgemm_linear(const at::Tensor& x, const at::Tensor& w) {
  const int64_t k = w.size(1), n = w.size(0);
  const auto xc = x.contiguous();
  const int64_t m = xc.numel() / k;
  auto sizes = x.sizes().vec();
  sizes.back() = n;
  auto y = at::empty(sizes, x.options());
  if (m == 0 || n == 0) return y;
  if (k == 0) return y.zero_();
  const float* a = xc.data_ptr<float>();
  const float* b = w.data_ptr<float>();
  float* c = y.data_ptr<float>();
  // One single-threaded sgemm per thread over its share of the output columns: oneDNN's own
  // split of this product (M = 64 prompt rows) left the second thread waiting (110M f32
  // prefill, 2 threads: 571-590 tok/s, 810-820 split here; one thread unchanged).
  const int64_t chunk = rows_per_part(n, n);
  std::atomic<int> failures{0};
  at::parallel_for(0, (n + chunk - 1) / chunk, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t n0 = p * chunk, count = std::min(n, n0 + chunk) - n0;
      if (sgemm()('N', 'T', m, count, k, 1.0f, a, k, b + n0 * k, k, 0.0f, c + n0, n) != 0) {
        ++failures;
      }
    }
  });
  return failures == 0 ? y : at::linear(x, w);
}

}  // namespace

at::Tensor dense_linear(const at::Tensor& x, const at::Tensor& w) {
  return dense_linear(x, wrap_weight(w));
}

at::Tensor dense_linear(const at::Tensor& x, const PackedWeight& w) {
  if (x.dim() < 1 || x.size(-1) != w.cols) {
    throw InvalidArgument("dense_linear: input has " +
                          std::to_string(x.dim() < 1 ? 0 : x.size(-1)) +
                          " features, the weight expects " + std::to_string(w.cols));
  }
  const bool wants_grad = at::GradMode::is_enabled() && x.requires_grad();
  if (w.type == WeightType::kF32) {
    const bool plain = x.scalar_type() == at::kFloat && x.device().is_cpu() && !wants_grad;
    return plain && sgemm() != nullptr ? sgemm_linear(x, w.data) : at::linear(x, w.data);
  }
  // oneDNN's bf16 GEMM rounds the activations to bf16: fine for a forward pass, but its
  // backward would hand the plug-in a gradient rounded to bf16 too (0.2 off on unit-scale
  // inputs), so training goes through the float32 panels below.
  if (w.type == WeightType::kBF16 && best_isa() >= Isa::kAvx512Bf16 && !wants_grad) {
    return at::linear(x.to(at::kBFloat16), w.data).to(x.scalar_type());
  }
  auto sizes = x.sizes().vec();
  sizes.back() = w.rows;
  const auto x2d = x.reshape({-1, w.cols});
  at::Tensor y;
  if (wants_grad) {
    y = PackedLinear::apply(x2d, w.data, static_cast<int64_t>(w.type), w.rows, w.cols);
  } else {
    y = packed_forward(x2d, w, /*exact=*/false).to(x.scalar_type());
  }
  return y.view(sizes);
}

}  // namespace pplug::kernels
