#include "kernels/dense_linear.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <dlfcn.h>

#include <cstdlib>

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

}  // namespace

bool have_onednn_sgemm() { return sgemm() != nullptr; }

at::Tensor dense_linear(const at::Tensor& x, const at::Tensor& w) {
  const bool plain = x.scalar_type() == at::kFloat && w.scalar_type() == at::kFloat &&
                     w.dim() == 2 && x.dim() >= 1 && x.size(-1) == w.size(1) && w.is_contiguous() &&
                     x.device().is_cpu() && w.device().is_cpu() &&
                     !(at::GradMode::is_enabled() && (x.requires_grad() || w.requires_grad()));
  if (!plain || sgemm() == nullptr) return at::linear(x, w);
  const int64_t k = w.size(1), n = w.size(0);
  const auto xc = x.contiguous();
  const int64_t m = xc.numel() / k;
  auto sizes = x.sizes().vec();
  sizes.back() = n;
  auto y = at::empty(sizes, x.options());
  if (m == 0 || n == 0) return y;
  if (k == 0) return y.zero_();
  const int status = sgemm()('N', 'T', m, n, k, 1.0f, xc.data_ptr<float>(), k, w.data_ptr<float>(),
                             k, 0.0f, y.data_ptr<float>(), n);
  return status == 0 ? y : at::linear(x, w);
}

}  // namespace pplug::kernels
