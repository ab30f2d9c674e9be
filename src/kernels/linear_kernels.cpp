#include "kernels/linear_kernels.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>

#include "kernels/portable_gemv.h"
#include "pplug/error.h"

namespace pplug::kernels {

WeightView weight_view(const at::Tensor& w) {
  WeightType type = WeightType::kF32;
  const bool known =
      w.defined() && (w.scalar_type() == at::kFloat || w.scalar_type() == at::kBFloat16 ||
                      w.scalar_type() == at::kHalf);
  if (!known || w.dim() != 2 || !w.is_contiguous() || !w.device().is_cpu()) {
    throw InvalidArgument(
        "kernels::weight_view: expected a contiguous 2-D float32, bfloat16 or float16 CPU tensor");
  }
  if (w.scalar_type() == at::kBFloat16) type = WeightType::kBF16;
  if (w.scalar_type() == at::kHalf) type = WeightType::kF16;
  return WeightView{w.data_ptr(), type, w.size(0), w.size(1)};
}

void linear_rows(const float* x, int64_t ldx, int64_t m, const WeightView& w, int64_t n0,
                 int64_t n1, float* y, int64_t ldy, bool accumulate, Isa isa) {
  if (n0 >= n1 || m <= 0) return;
  isa = usable_isa(isa);
  const bool wide_float = w.type == WeightType::kF32 || w.type == WeightType::kBF16;
  if (isa == Isa::kAvx512Bf16 && w.type == WeightType::kBF16) {
    detail::linear_rows_avx512_bf16(x, ldx, m, w, n0, n1, y, ldy, accumulate);
  } else if (isa >= Isa::kAvx512 && w.type == WeightType::kQ4_0) {
    detail::linear_rows_avx512_q4_0(x, ldx, m, w, n0, n1, y, ldy, accumulate);
  } else if (isa >= Isa::kAvx512 && wide_float) {
    detail::linear_rows_avx512(x, ldx, m, w, n0, n1, y, ldy, accumulate);
  } else if (isa >= Isa::kAvx2) {
    detail::linear_rows_avx2(x, ldx, m, w, n0, n1, y, ldy, accumulate);
  } else {
    detail::linear_rows_portable(x, ldx, m, w, n0, n1, y, ldy, accumulate);
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

at::Tensor linear(const at::Tensor& x, const WeightView& w, Isa isa) {
  if (x.dim() != 2 || x.scalar_type() != at::kFloat || x.size(1) != w.cols) {
    throw InvalidArgument("kernels::linear: x must be float32 (M, " + std::to_string(w.cols) + ")");
  }
  auto xc = x.contiguous();
  auto y = at::empty({x.size(0), w.rows}, at::kFloat);
  linear(xc.data_ptr<float>(), w.cols, x.size(0), w, y.data_ptr<float>(), w.rows,
         /*accumulate=*/false, isa);
  return y;
}

at::Tensor linear(const at::Tensor& x, const at::Tensor& w, Isa isa) {
  return linear(x, weight_view(w), isa);
}

}  // namespace pplug::kernels
