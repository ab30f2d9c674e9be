// The portable decode GEMV: plain loops the compiler vectorises for the build's -march. Header
// only, so bench/portable_gemv_bench.cpp can build the same code for other instruction sets (it
// shows what an AVX2-only CPU gets, where the AVX-512 kernels do not run).
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

namespace pplug::kernels::detail {

inline float bf16_to_float(uint16_t v) {
  const uint32_t bits = static_cast<uint32_t>(v) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

// 32 partial sums per dot product let the compiler vectorise without reassociation flags and
// keep several vector accumulators in flight (one would wait on each FMA's latency: 4x slower).
template <typename W>
float dot_portable(const float* x, const W* w, int64_t k) {
  constexpr int kLanes = 32;
  float part[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= k; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) {
      if constexpr (std::is_same_v<W, uint16_t>) {
        part[l] += x[i + l] * bf16_to_float(w[i + l]);
      } else {
        part[l] += x[i + l] * w[i + l];
      }
    }
  }
  float s = 0;
  for (const float v : part) s += v;
  for (; i < k; ++i) {
    if constexpr (std::is_same_v<W, uint16_t>) {
      s += x[i] * bf16_to_float(w[i]);
    } else {
      s += x[i] * w[i];
    }
  }
  return s;
}

// y[r, n] (+)= x[r, :] . w[n, :] for rows n0..n1 of w (k columns), m inputs.
template <typename W>
void linear_rows_portable(const float* x, int64_t ldx, int64_t m, const W* w, int64_t k, int64_t n0,
                          int64_t n1, float* y, int64_t ldy, bool accumulate) {
  for (int64_t n = n0; n < n1; ++n) {
    for (int64_t r = 0; r < m; ++r) {
      const float s = dot_portable(x + r * ldx, w + n * k, k);
      float& out = y[r * ldy + n];
      out = accumulate ? out + s : s;
    }
  }
}

}  // namespace pplug::kernels::detail
