#include "kernels/linear_kernels.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "kernels/portable_gemv.h"
#include "pplug/error.h"

namespace pplug::kernels {

WeightView weight_view(const at::Tensor& w) {
  if (!w.defined() || w.dim() != 2 || !w.is_contiguous() || !w.device().is_cpu() ||
      (w.scalar_type() != at::kFloat && w.scalar_type() != at::kBFloat16)) {
    throw InvalidArgument(
        "kernels::weight_view: expected a contiguous 2-D float32 or bfloat16 "
        "CPU tensor");
  }
  return WeightView{w.data_ptr(), w.scalar_type() == at::kBFloat16, w.size(0), w.size(1)};
}

void linear_rows(const float* x, int64_t ldx, int64_t m, const WeightView& w, int64_t n0,
                 int64_t n1, float* y, int64_t ldy, bool accumulate, Isa isa) {
  if (n0 >= n1 || m <= 0) return;
  isa = usable_isa(isa);
  if (isa == Isa::kAvx512Bf16 && w.bf16) {
    detail::linear_rows_avx512_bf16(x, ldx, m, w, n0, n1, y, ldy, accumulate);
  } else if (isa >= Isa::kAvx512) {
    detail::linear_rows_avx512(x, ldx, m, w, n0, n1, y, ldy, accumulate);
  } else if (w.bf16) {
    detail::linear_rows_portable(x, ldx, m, static_cast<const uint16_t*>(w.data), w.cols, n0, n1, y,
                                 ldy, accumulate);
  } else {
    detail::linear_rows_portable(x, ldx, m, static_cast<const float*>(w.data), w.cols, n0, n1, y,
                                 ldy, accumulate);
  }
}

int64_t linear_grain(int64_t m, int64_t k) {
  return std::max<int64_t>(16, (int64_t{1} << 16) / std::max<int64_t>(1, m * k));
}

void linear(const float* x, int64_t ldx, int64_t m, const WeightView& w, float* y, int64_t ldy,
            bool accumulate, Isa isa) {
  at::parallel_for(0, w.rows, linear_grain(m, w.cols), [&](int64_t n0, int64_t n1) {
    linear_rows(x, ldx, m, w, n0, n1, y, ldy, accumulate, isa);
  });
}

at::Tensor linear(const at::Tensor& x, const at::Tensor& w, Isa isa) {
  const WeightView view = weight_view(w);
  if (x.dim() != 2 || x.scalar_type() != at::kFloat || x.size(1) != view.cols) {
    throw InvalidArgument("kernels::linear: x must be float32 (M, " + std::to_string(view.cols) +
                          ")");
  }
  auto xc = x.contiguous();
  auto y = at::empty({x.size(0), view.rows}, at::kFloat);
  linear(xc.data_ptr<float>(), view.cols, x.size(0), view, y.data_ptr<float>(), view.rows,
         /*accumulate=*/false, isa);
  return y;
}

}  // namespace pplug::kernels
