// bfloat16 weights with vdpbf16ps: 32 multiply-adds per instruction and no widening of weights.
//
// Rounding the float32 activations to bf16 would cost ~3 significant digits, so each is split
// into x = hi + lo with hi = bf16(x) and lo = bf16(x - hi): two dot products against the same
// weight vector give ~16 significant bits of x (bf16 products are exact in float32), which is as
// precise as widening the weights, at a third of the instructions.
#include <algorithm>
#include <vector>

#include "kernels/linear_kernels.h"
#include "kernels/x86/avx512_util.h"
#include "pplug/error.h"

namespace pplug::kernels::detail {

#ifdef PPLUG_HAVE_AVX512_KERNELS
namespace {

#define PPLUG_AVX512_BF16 \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,fma")))

PPLUG_AVX512_BF16 inline __m512bh load32(const uint16_t* p) {
  return reinterpret_cast<__m512bh>(_mm512_loadu_si512(p));
}
PPLUG_AVX512_BF16 inline __m512bh load32(const uint16_t* p, __mmask32 mask) {
  return reinterpret_cast<__m512bh>(_mm512_maskz_loadu_epi16(mask, p));
}

// hi[i] = bf16(x[i]), lo[i] = bf16(x[i] - hi[i]) for i < k, zero up to the padded length.
PPLUG_AVX512_BF16 void split(const float* x, int64_t k, int64_t padded, uint16_t* hi,
                             uint16_t* lo) {
  for (int64_t i = 0; i < padded; i += 16) {
    const __mmask16 mask =
        k - i >= 16 ? __mmask16(0xFFFF) : avx512::tail_mask(std::max<int64_t>(0, k - i));
    const __m512 v = _mm512_maskz_loadu_ps(mask, x + i);
    const __m256bh h = _mm512_cvtneps_pbh(v);
    const __m512 h32 = _mm512_castsi512_ps(
        _mm512_slli_epi32(_mm512_cvtepu16_epi32(reinterpret_cast<__m256i>(h)), 16));
    const __m256bh l = _mm512_cvtneps_pbh(_mm512_sub_ps(v, h32));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(hi + i), reinterpret_cast<__m256i>(h));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(lo + i), reinterpret_cast<__m256i>(l));
  }
}

// y[r][j] (+)= dot(x[r], w[j]); xs holds per row r the hi terms then the lo terms (2 * ldk).
// A single activation row (the M % 4 remainder) gets separate hi/lo accumulators, so enough
// independent chains hide the latency of vdpbf16ps.
template <int MR, int NR>
PPLUG_AVX512_BF16 void tile(const uint16_t* xs, int64_t ldk, const uint16_t* w, int64_t k, float* y,
                            int64_t ldy, bool accumulate) {
  constexpr int kSets = MR == 1 ? 2 : 1;  // see above
  __m512 acc[kSets][MR][NR];
  for (int s = 0; s < kSets; ++s) {
    for (int r = 0; r < MR; ++r) {
      for (int j = 0; j < NR; ++j) acc[s][r][j] = _mm512_setzero_ps();
    }
  }
  for (int64_t i = 0; i < k; i += 32) {
    const __mmask32 mask =
        k - i >= 32 ? __mmask32(0xFFFFFFFFu) : static_cast<__mmask32>((uint64_t{1} << (k - i)) - 1);
    __m512bh wv[NR];
    for (int j = 0; j < NR; ++j) {
      // The next tile's rows follow these in memory: fetch them one tile ahead.
      _mm_prefetch(reinterpret_cast<const char*>(w + (NR + j) * k + i), _MM_HINT_T0);
      wv[j] = load32(w + j * k + i, mask);
    }
    for (int64_t r = 0; r < MR; ++r) {
      const __m512bh hi = load32(xs + r * 2 * ldk + i);
      const __m512bh lo = load32(xs + r * 2 * ldk + ldk + i);
      for (int j = 0; j < NR; ++j) {
        acc[0][r][j] = _mm512_dpbf16_ps(acc[0][r][j], hi, wv[j]);
        acc[kSets - 1][r][j] = _mm512_dpbf16_ps(acc[kSets - 1][r][j], lo, wv[j]);
      }
    }
  }
  for (int r = 0; r < MR; ++r) {
    for (int j = 0; j < NR; ++j) {
      __m512 sum = acc[0][r][j];
      if constexpr (kSets == 2) sum = _mm512_add_ps(sum, acc[1][r][j]);
      const float s = _mm512_reduce_add_ps(sum);
      float& out = y[r * ldy + j];
      out = accumulate ? out + s : s;
    }
  }
}

// One activation row: weight rows one after another, so the weights stream through memory in
// address order with a software prefetch a fixed distance ahead, as in linear_avx512.cpp.
// Reading four rows side by side (the activation loaded once for four, one shared reduction)
// ran at half this speed on an EPYC with AVX512_BF16 (55.6 vs 118-121 tok/s, 110M bf16, one
// thread): four short streams a row apart defeat the prefetchers that one stream keeps busy.
PPLUG_AVX512_BF16 void stream_rows(const uint16_t* xs, int64_t ldk, const uint16_t* w, int64_t k,
                                   int64_t n0, int64_t n1, float* y, bool accumulate) {
  const char* ahead = reinterpret_cast<const char*>(w + n0 * k) + avx512::kPrefetchBytes;
  for (int64_t n = n0; n < n1; ++n) {
    const uint16_t* row = w + n * k;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    __m512 acc2 = _mm512_setzero_ps(), acc3 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 64 <= k; i += 64) {
      _mm_prefetch(ahead, _MM_HINT_T0);
      _mm_prefetch(ahead + 64, _MM_HINT_T0);
      ahead += 128;
      const __m512bh w0 = load32(row + i), w1 = load32(row + i + 32);
      acc0 = _mm512_dpbf16_ps(acc0, load32(xs + i), w0);
      acc1 = _mm512_dpbf16_ps(acc1, load32(xs + ldk + i), w0);
      acc2 = _mm512_dpbf16_ps(acc2, load32(xs + i + 32), w1);
      acc3 = _mm512_dpbf16_ps(acc3, load32(xs + ldk + i + 32), w1);
    }
    for (; i < k; i += 32) {
      const __mmask32 mask = k - i >= 32 ? __mmask32(0xFFFFFFFFu)
                                         : static_cast<__mmask32>((uint64_t{1} << (k - i)) - 1);
      _mm_prefetch(ahead, _MM_HINT_T0);
      ahead += 2 * (k - i >= 32 ? 32 : k - i);
      const __m512bh w0 = load32(row + i, mask);
      acc0 = _mm512_dpbf16_ps(acc0, load32(xs + i), w0);
      acc1 = _mm512_dpbf16_ps(acc1, load32(xs + ldk + i), w0);
    }
    const float s =
        _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
    y[n] = accumulate ? y[n] + s : s;
  }
}

template <int NR>
PPLUG_AVX512_BF16 void column_block(const uint16_t* xs, int64_t ldk, int64_t m, const uint16_t* w,
                                    int64_t k, float* y, int64_t ldy, bool accumulate) {
  int64_t r = 0;
  for (; r + 4 <= m; r += 4) tile<4, NR>(xs + r * 2 * ldk, ldk, w, k, y + r * ldy, ldy, accumulate);
  switch (m - r) {
    case 3:
      tile<3, NR>(xs + r * 2 * ldk, ldk, w, k, y + r * ldy, ldy, accumulate);
      break;
    case 2:
      tile<2, NR>(xs + r * 2 * ldk, ldk, w, k, y + r * ldy, ldy, accumulate);
      break;
    case 1:
      tile<1, NR>(xs + r * 2 * ldk, ldk, w, k, y + r * ldy, ldy, accumulate);
      break;
    default:
      break;
  }
}

PPLUG_AVX512_BF16 void rows(const float* x, int64_t ldx, int64_t m, const uint16_t* w, int64_t k,
                            int64_t n0, int64_t n1, float* y, int64_t ldy, bool accumulate) {
  // Per-thread split activations; grows to the largest (M, K) seen and is then reused, so
  // steady-state decoding allocates nothing here.
  thread_local std::vector<uint16_t> split_x;
  const int64_t ldk = (k + 31) / 32 * 32;
  if (split_x.size() < static_cast<size_t>(m * 2 * ldk)) split_x.resize(m * 2 * ldk);
  uint16_t* xs = split_x.data();
  for (int64_t r = 0; r < m; ++r)
    split(x + r * ldx, k, ldk, xs + r * 2 * ldk, xs + r * 2 * ldk + ldk);
  if (m == 1) return stream_rows(xs, ldk, w, k, n0, n1, y, accumulate);
  int64_t n = n0;
  for (; n + 4 <= n1; n += 4) column_block<4>(xs, ldk, m, w + n * k, k, y + n, ldy, accumulate);
  for (; n < n1; ++n) column_block<1>(xs, ldk, m, w + n * k, k, y + n, ldy, accumulate);
}

}  // namespace

void linear_rows_avx512_bf16(const float* x, int64_t ldx, int64_t m, const WeightView& w,
                             int64_t n0, int64_t n1, float* y, int64_t ldy, bool accumulate) {
  rows(x, ldx, m, static_cast<const uint16_t*>(w.data), w.cols, n0, n1, y, ldy, accumulate);
}

#else

void linear_rows_avx512_bf16(const float*, int64_t, int64_t, const WeightView&, int64_t, int64_t,
                             float*, int64_t, bool) {
  throw Error("linear_rows_avx512_bf16: not compiled for this target");
}

#endif

}  // namespace pplug::kernels::detail
