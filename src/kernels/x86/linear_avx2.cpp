// AVX2 skinny products for every weight type.
//
// Float types (float32, bfloat16, float16): float32 FMAs with the weights widened in registers;
// one activation row streams the weights row after row, several rows use register tiles.
// Block-quantized types (Q8_0, Q4_0): each activation row is first quantized to Q8_0-style
// blocks (int8 values and a float32 scale per 32), then every block product is an int8 dot
// product (vpmaddubsw + vpmaddwd) scaled by the two block scales: about a third of the
// instructions of widening 32 weights to float, which keeps the kernel memory-bound.
#include <algorithm>
#include <vector>

#include "kernels/linear_kernels.h"
#include "kernels/x86/avx2_util.h"
#include "pplug/error.h"

namespace pplug::kernels::detail {

#ifdef PPLUG_HAVE_AVX2_KERNELS
namespace {

using avx2::Half;
using avx2::load8;
using avx2::widen1;

// One activation row against rows [n0, n1): the weights stream through memory in address order
// with a software prefetch a fixed distance ahead (see avx2::kPrefetchBytes).
template <typename W>
PPLUG_AVX2 void stream_rows(const float* x, const W* w, int64_t k, int64_t n0, int64_t n1, float* y,
                            bool accumulate) {
  const char* ahead = reinterpret_cast<const char*>(w + n0 * k) + avx2::kPrefetchBytes;
  constexpr int64_t kStepBytes = 32 * sizeof(W);
  for (int64_t n = n0; n < n1; ++n) {
    const W* row = w + n * k;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    __m256 acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= k; i += 32) {
      for (int64_t b = 0; b < kStepBytes; b += 64) _mm_prefetch(ahead + b, _MM_HINT_T0);
      ahead += kStepBytes;
      acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), load8(row + i), acc0);
      acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), load8(row + i + 8), acc1);
      acc2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16), load8(row + i + 16), acc2);
      acc3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 24), load8(row + i + 24), acc3);
    }
    for (; i + 8 <= k; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), load8(row + i), acc0);
    float s = avx2::hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
    for (; i < k; ++i) s += x[i] * widen1(row[i]);
    ahead += (k % 32) * sizeof(W);
    y[n] = accumulate ? y[n] + s : s;
  }
}

// y[r][j] (+)= dot(x[r], w[j]) for r < MR, j < NR: each weight vector is loaded once for all MR
// rows. MR x NR accumulators plus NR weights and one activation fit AVX2's 16 registers.
template <int MR, int NR, typename W>
PPLUG_AVX2 void tile(const float* x, int64_t ldx, const W* w, int64_t k, float* y, int64_t ldy,
                     bool accumulate) {
  __m256 acc[MR][NR];
  for (int r = 0; r < MR; ++r) {
    for (int j = 0; j < NR; ++j) acc[r][j] = _mm256_setzero_ps();
  }
  int64_t i = 0;
  for (; i + 8 <= k; i += 8) {
    __m256 wv[NR];
    for (int j = 0; j < NR; ++j) wv[j] = load8(w + j * k + i);
    for (int r = 0; r < MR; ++r) {
      const __m256 xv = _mm256_loadu_ps(x + r * ldx + i);
      for (int j = 0; j < NR; ++j) acc[r][j] = _mm256_fmadd_ps(xv, wv[j], acc[r][j]);
    }
  }
  for (int r = 0; r < MR; ++r) {
    for (int j = 0; j < NR; ++j) {
      float s = avx2::hsum(acc[r][j]);
      for (int64_t t = i; t < k; ++t) s += x[r * ldx + t] * widen1(w[j * k + t]);
      float& out = y[r * ldy + j];
      out = accumulate ? out + s : s;
    }
  }
}

template <int NR, typename W>
PPLUG_AVX2 void column_block(const float* x, int64_t ldx, int64_t m, const W* w, int64_t k,
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
PPLUG_AVX2 void float_rows(const float* x, int64_t ldx, int64_t m, const W* w, int64_t k,
                           int64_t n0, int64_t n1, float* y, int64_t ldy, bool accumulate) {
  if (m == 1) return stream_rows(x, w, k, n0, n1, y, accumulate);
  int64_t n = n0;
  for (; n + 2 <= n1; n += 2) column_block<2>(x, ldx, m, w + n * k, k, y + n, ldy, accumulate);
  for (; n < n1; ++n) column_block<1>(x, ldx, m, w + n * k, k, y + n, ldy, accumulate);
}

// ---- block-quantized weights ----

// 32 float32 activations -> 32 int8 and a scale (max |x| / 127, values rounded to nearest).
PPLUG_AVX2 void quantize_block(const float* x, int8_t* q, float* scale) {
  const __m256 sign_bit = _mm256_set1_ps(-0.0f);
  __m256 v[4];
  __m256 amax = _mm256_setzero_ps();
  for (int j = 0; j < 4; ++j) {
    v[j] = _mm256_loadu_ps(x + 8 * j);
    amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign_bit, v[j]));
  }
  const float d = avx2::hmax(amax) / 127.0f;
  *scale = d;
  const __m256 id = _mm256_set1_ps(d != 0.0f ? 1.0f / d : 0.0f);
  __m256i i[4];
  for (int j = 0; j < 4; ++j) {
    i[j] = _mm256_cvtps_epi32(
        _mm256_round_ps(_mm256_mul_ps(v[j], id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
  // Packing interleaves 128-bit lanes; the permutation puts the 32 values back in order.
  const __m256i p01 = _mm256_packs_epi32(i[0], i[1]);
  const __m256i p23 = _mm256_packs_epi32(i[2], i[3]);
  const __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(p01, p23),
                                                    _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(q), bytes);
}

// The 32 weights of a Q4_0 block as int8 in [-8, 7]: low nibbles are weights 0-15, high 16-31.
PPLUG_AVX2 inline __m256i unpack_q4_0(const uint8_t* nibbles) {
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(nibbles));
  const __m128i low_mask = _mm_set1_epi8(0x0F);
  const __m128i lo = _mm_and_si128(raw, low_mask);
  const __m128i hi = _mm_and_si128(_mm_srli_epi16(raw, 4), low_mask);
  return _mm256_sub_epi8(_mm256_set_m128i(hi, lo), _mm256_set1_epi8(8));
}

// Eight int32 partial sums of the signed int8 product w . x (vpmaddubsw needs an unsigned
// operand: |w| times x with w's sign; |w| <= 128 and |x| <= 127 cannot saturate the 16-bit pairs).
PPLUG_AVX2 inline __m256 int8_dot(__m256i w, __m256i x) {
  const __m256i pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
  return _mm256_cvtepi32_ps(_mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
}

template <WeightType kType>
PPLUG_AVX2 inline __m256i load_block_weights(const uint8_t* block) {
  if constexpr (kType == WeightType::kQ4_0) {
    return unpack_q4_0(block + 2);
  } else {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 2));
  }
}

PPLUG_AVX2 inline float block_scale(const uint8_t* block) {
  return _cvtsh_ss(static_cast<unsigned short>(block[0] | (block[1] << 8)));
}

// dot(row, x) for one quantized weight row against one quantized activation row.
template <WeightType kType>
PPLUG_AVX2 float quantized_dot(const uint8_t* row, const int8_t* qx, const float* sx,
                               int64_t blocks) {
  constexpr int64_t kBytes = kType == WeightType::kQ4_0 ? kQ4_0BlockBytes : kQ8_0BlockBytes;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t b = 0;
  for (; b + 2 <= blocks; b += 2) {
    const uint8_t* b0 = row + b * kBytes;
    const uint8_t* b1 = b0 + kBytes;
    _mm_prefetch(reinterpret_cast<const char*>(b0) + avx2::kPrefetchBytes, _MM_HINT_T0);
    const __m256 p0 = int8_dot(load_block_weights<kType>(b0),
                               _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qx + b * 32)));
    const __m256 p1 =
        int8_dot(load_block_weights<kType>(b1),
                 _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qx + b * 32 + 32)));
    acc0 = _mm256_fmadd_ps(p0, _mm256_set1_ps(block_scale(b0) * sx[b]), acc0);
    acc1 = _mm256_fmadd_ps(p1, _mm256_set1_ps(block_scale(b1) * sx[b + 1]), acc1);
  }
  if (b < blocks) {
    const uint8_t* b0 = row + b * kBytes;
    const __m256 p0 = int8_dot(load_block_weights<kType>(b0),
                               _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qx + b * 32)));
    acc0 = _mm256_fmadd_ps(p0, _mm256_set1_ps(block_scale(b0) * sx[b]), acc0);
  }
  return avx2::hsum(_mm256_add_ps(acc0, acc1));
}

template <WeightType kType>
PPLUG_AVX2 void quantized_rows(const float* x, int64_t ldx, int64_t m, const WeightView& w,
                               int64_t n0, int64_t n1, float* y, int64_t ldy, bool accumulate) {
  const int64_t k = w.cols, blocks = k / kQuantBlock, bytes = row_bytes(kType, k);
  // Per-thread quantized activations; grows to the largest (M, K) seen and is then reused.
  thread_local std::vector<int8_t> qx;
  thread_local std::vector<float> sx;
  if (qx.size() < static_cast<size_t>(m * k)) qx.resize(m * k);
  if (sx.size() < static_cast<size_t>(m * blocks)) sx.resize(m * blocks);
  for (int64_t r = 0; r < m; ++r) {
    for (int64_t b = 0; b < blocks; ++b) {
      quantize_block(x + r * ldx + b * kQuantBlock, qx.data() + r * k + b * kQuantBlock,
                     sx.data() + r * blocks + b);
    }
  }
  const auto* base = static_cast<const uint8_t*>(w.data);
  for (int64_t n = n0; n < n1; ++n) {
    const uint8_t* row = base + n * bytes;
    for (int64_t r = 0; r < m; ++r) {
      const float s = quantized_dot<kType>(row, qx.data() + r * k, sx.data() + r * blocks, blocks);
      float& out = y[r * ldy + n];
      out = accumulate ? out + s : s;
    }
  }
}

}  // namespace

void linear_rows_avx2(const float* x, int64_t ldx, int64_t m, const WeightView& w, int64_t n0,
                      int64_t n1, float* y, int64_t ldy, bool accumulate) {
  switch (w.type) {
    case WeightType::kF32:
      return float_rows(x, ldx, m, static_cast<const float*>(w.data), w.cols, n0, n1, y, ldy,
                        accumulate);
    case WeightType::kBF16:
      return float_rows(x, ldx, m, static_cast<const uint16_t*>(w.data), w.cols, n0, n1, y, ldy,
                        accumulate);
    case WeightType::kF16:
      return float_rows(x, ldx, m, static_cast<const Half*>(w.data), w.cols, n0, n1, y, ldy,
                        accumulate);
    case WeightType::kQ8_0:
      return quantized_rows<WeightType::kQ8_0>(x, ldx, m, w, n0, n1, y, ldy, accumulate);
    case WeightType::kQ4_0:
      return quantized_rows<WeightType::kQ4_0>(x, ldx, m, w, n0, n1, y, ldy, accumulate);
  }
}

#else

void linear_rows_avx2(const float*, int64_t, int64_t, const WeightView&, int64_t, int64_t, float*,
                      int64_t, bool) {
  throw Error("linear_rows_avx2: not compiled for this target");
}

#endif

}  // namespace pplug::kernels::detail
