// The portable decode GEMV and dot products: plain loops the compiler vectorises for the build's
// baseline. Every CPU runs them; the x86 kernels (kernels/x86/) replace them where they can.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/linear_kernels.h"
#include "kernels/weight_type.h"

namespace pplug::kernels::detail {

// Element conversions of the float weight types (uint16_t is bfloat16; Half16 is float16).
struct Half16 {
  uint16_t bits;
};
inline float widen(float v) { return v; }
inline float widen(uint16_t v) { return bf16_to_float(v); }
inline float widen(Half16 v) { return half_to_float(v.bits); }

// 32 partial sums per dot product let the compiler vectorise without reassociation flags and
// keep several vector accumulators in flight (one would wait on each FMA's latency: 4x slower).
template <typename W>
float dot_portable(const float* x, const W* w, int64_t k) {
  constexpr int kLanes = 32;
  float part[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= k; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) part[l] += x[i + l] * widen(w[i + l]);
  }
  float s = 0;
  for (const float v : part) s += v;
  for (; i < k; ++i) s += x[i] * widen(w[i]);
  return s;
}

// y[r, n] (+)= x[r, :] . w[n, :] for rows n0..n1 of a float-type weight with k columns.
template <typename W>
void linear_rows_float(const float* x, int64_t ldx, int64_t m, const W* w, int64_t k, int64_t n0,
                       int64_t n1, float* y, int64_t ldy, bool accumulate) {
  for (int64_t n = n0; n < n1; ++n) {
    for (int64_t r = 0; r < m; ++r) {
      const float s = dot_portable(x + r * ldx, w + n * k, k);
      float& out = y[r * ldy + n];
      out = accumulate ? out + s : s;
    }
  }
}

// Block-quantized weights: each 32-weight block is dequantized once into registers' worth of
// floats and used for every activation row.
inline void linear_rows_quantized(const float* x, int64_t ldx, int64_t m, const WeightView& w,
                                  int64_t n0, int64_t n1, float* y, int64_t ldy, bool accumulate) {
  const int64_t bytes = row_bytes(w.type, w.cols);
  const int64_t block_bytes = bytes / (w.cols / kQuantBlock);
  for (int64_t n = n0; n < n1; ++n) {
    const auto* row = static_cast<const uint8_t*>(w.data) + n * bytes;
    for (int64_t r0 = 0; r0 < m; r0 += 8) {
      const int64_t rows = m - r0 < 8 ? m - r0 : 8;
      float sums[8] = {};
      for (int64_t b = 0; b < w.cols / kQuantBlock; ++b) {
        float block[kQuantBlock];
        dequantize_row(row + b * block_bytes, kQuantBlock, w.type, block);
        for (int64_t r = 0; r < rows; ++r) {
          sums[r] += dot_portable(x + (r0 + r) * ldx + b * kQuantBlock, block, kQuantBlock);
        }
      }
      for (int64_t r = 0; r < rows; ++r) {
        float& out = y[(r0 + r) * ldy + n];
        out = accumulate ? out + sums[r] : sums[r];
      }
    }
  }
}

inline void linear_rows_portable(const float* x, int64_t ldx, int64_t m, const WeightView& w,
                                 int64_t n0, int64_t n1, float* y, int64_t ldy, bool accumulate) {
  switch (w.type) {
    case WeightType::kF32:
      return linear_rows_float(x, ldx, m, static_cast<const float*>(w.data), w.cols, n0, n1, y, ldy,
                               accumulate);
    case WeightType::kBF16:
      return linear_rows_float(x, ldx, m, static_cast<const uint16_t*>(w.data), w.cols, n0, n1, y,
                               ldy, accumulate);
    case WeightType::kF16:
      return linear_rows_float(x, ldx, m, static_cast<const Half16*>(w.data), w.cols, n0, n1, y,
                               ldy, accumulate);
    case WeightType::kQ8_0:
    case WeightType::kQ4_0:
      return linear_rows_quantized(x, ldx, m, w, n0, n1, y, ldy, accumulate);
  }
}

}  // namespace pplug::kernels::detail
