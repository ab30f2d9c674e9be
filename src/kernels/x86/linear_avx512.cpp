// AVX-512 skinny products with float32 FMAs (bf16 weights widened in registers): one activation
// row streams the weights row after row; several rows use register tiles of MR x NR.
#include <algorithm>

#include "kernels/linear_kernels.h"
#include "kernels/x86/avx512_util.h"
#include "pplug/error.h"

namespace pplug::kernels::detail {

#ifdef PPLUG_HAVE_AVX512_KERNELS
namespace {

using avx512::load16;

// One tile: y[r][j] (+)= dot(x[r], w[j]) for r < MR, j < NR. Each weight vector is loaded once
// and used for all MR rows; the K tail is handled with masked loads, so any K works.
template <int MR, int NR, typename W>
PPLUG_AVX512 void tile(const float* x, int64_t ldx, const W* w, int64_t k, float* y, int64_t ldy,
                       bool accumulate) {
  __m512 acc[MR][NR];
  for (int r = 0; r < MR; ++r) {
    for (int j = 0; j < NR; ++j) acc[r][j] = _mm512_setzero_ps();
  }
  int64_t i = 0;
  for (; i + 16 <= k; i += 16) {
    __m512 wv[NR];
    for (int j = 0; j < NR; ++j) {
      // The next tile's rows follow these in memory; fetching them one tile ahead keeps enough
      // misses in flight, which the hardware prefetcher alone does not for rows this short.
      _mm_prefetch(reinterpret_cast<const char*>(w + (NR + j) * k + i), _MM_HINT_T0);
      wv[j] = load16(w + j * k + i);
    }
    for (int r = 0; r < MR; ++r) {
      const __m512 xv = _mm512_loadu_ps(x + r * ldx + i);
      for (int j = 0; j < NR; ++j) acc[r][j] = _mm512_fmadd_ps(xv, wv[j], acc[r][j]);
    }
  }
  if (i < k) {
    const __mmask16 mask = avx512::tail_mask(k - i);
    __m512 wv[NR];
    for (int j = 0; j < NR; ++j) wv[j] = load16(w + j * k + i, mask);
    for (int r = 0; r < MR; ++r) {
      const __m512 xv = _mm512_maskz_loadu_ps(mask, x + r * ldx + i);
      for (int j = 0; j < NR; ++j) acc[r][j] = _mm512_fmadd_ps(xv, wv[j], acc[r][j]);
    }
  }
  for (int r = 0; r < MR; ++r) {
    for (int j = 0; j < NR; ++j) {
      const float s = _mm512_reduce_add_ps(acc[r][j]);
      float& out = y[r * ldy + j];
      out = accumulate ? out + s : s;
    }
  }
}

// One activation row: weight rows one after another, so the weights stream through memory in
// address order (one stream the hardware prefetcher follows), with a software prefetch a fixed
// distance ahead to keep enough misses in flight on one core. Measured faster than interleaving
// 8 rows, whose short per-row streams the prefetchers follow badly.
template <typename W>
PPLUG_AVX512 void stream_rows(const float* x, const W* w, int64_t k, int64_t n0, int64_t n1,
                              float* y, bool accumulate) {
  const char* ahead = reinterpret_cast<const char*>(w + n0 * k) + avx512::kPrefetchBytes;
  constexpr int64_t kStepBytes = 32 * sizeof(W);
  for (int64_t n = n0; n < n1; ++n) {
    const W* row = w + n * k;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= k; i += 32) {
      for (int64_t b = 0; b < kStepBytes; b += 64) _mm_prefetch(ahead + b, _MM_HINT_T0);
      ahead += kStepBytes;
      acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), load16(row + i), acc0);
      acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16), load16(row + i + 16), acc1);
    }
    for (; i < k; i += 16) {
      const __mmask16 mask = avx512::tail_mask(std::min<int64_t>(16, k - i));
      ahead += (std::min<int64_t>(16, k - i)) * sizeof(W);
      acc0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, x + i), load16(row + i, mask), acc0);
    }
    const float s = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
    y[n] = accumulate ? y[n] + s : s;
  }
}

// All activation rows against weight rows [n0, n0 + NR): the NR weight rows (a few KB) stay in
// L1 while every block of MR activation rows passes over them, so DRAM sees each weight once.
template <int NR, typename W>
PPLUG_AVX512 void column_block(const float* x, int64_t ldx, int64_t m, const W* w, int64_t k,
                               float* y, int64_t ldy, bool accumulate) {
  int64_t r = 0;
  for (; r + 4 <= m; r += 4) tile<4, NR>(x + r * ldx, ldx, w, k, y + r * ldy, ldy, accumulate);
  switch (m - r) {
    case 3:
      tile<3, NR>(x + r * ldx, ldx, w, k, y + r * ldy, ldy, accumulate);
      break;
    case 2:
      tile<2, NR>(x + r * ldx, ldx, w, k, y + r * ldy, ldy, accumulate);
      break;
    case 1:
      tile<1, NR>(x + r * ldx, ldx, w, k, y + r * ldy, ldy, accumulate);
      break;
    default:
      break;
  }
}

template <typename W>
PPLUG_AVX512 void rows(const float* x, int64_t ldx, int64_t m, const W* w, int64_t k, int64_t n0,
                       int64_t n1, float* y, int64_t ldy, bool accumulate) {
  if (m == 1) return stream_rows(x, w, k, n0, n1, y, accumulate);
  int64_t n = n0;
  for (; n + 4 <= n1; n += 4) column_block<4>(x, ldx, m, w + n * k, k, y + n, ldy, accumulate);
  for (; n < n1; ++n) column_block<1>(x, ldx, m, w + n * k, k, y + n, ldy, accumulate);
}

}  // namespace

void linear_rows_avx512(const float* x, int64_t ldx, int64_t m, const WeightView& w, int64_t n0,
                        int64_t n1, float* y, int64_t ldy, bool accumulate) {
  if (w.type == WeightType::kBF16) {
    rows(x, ldx, m, static_cast<const uint16_t*>(w.data), w.cols, n0, n1, y, ldy, accumulate);
  } else {
    rows(x, ldx, m, static_cast<const float*>(w.data), w.cols, n0, n1, y, ldy, accumulate);
  }
}

#else

void linear_rows_avx512(const float*, int64_t, int64_t, const WeightView&, int64_t, int64_t, float*,
                        int64_t, bool) {
  throw Error("linear_rows_avx512: not compiled for this target");
}

#endif

}  // namespace pplug::kernels::detail
