// Q4_0 weights with AVX-512 (F, BW, DQ): two blocks, 64 weights, per 512-bit integer product.
//
// As in the AVX2 kernel, each activation row is first quantized to int8 blocks of 32 with a
// float32 scale (max |x| / 127, rounded to nearest), and every block product is exact in
// integers, scaled by the two block scales. The AVX2 kernel spends ~14 instructions per block
// and is compute-bound on Q4_0 (110M decode, one thread: ~180 tok/s, 11 GB/s, where Q8_0 reads
// 25 GB/s); here a pair of blocks costs about as many as one did. The nibbles stay unsigned
// (0..15): vpmaddubsw takes them as its unsigned operand, and the -8 offset becomes a per-lane
// correction 8 * sum(x) computed once per activation row.
#include <algorithm>
#include <vector>

#include "kernels/linear_kernels.h"
#include "kernels/x86/avx512_util.h"
#include "pplug/error.h"

namespace pplug::kernels::detail {

#ifdef PPLUG_HAVE_AVX512_KERNELS
namespace {

// PPLUG_AVX512_F16C and F16C, for the weights' float16 scales (every AVX-512 CPU has F16C).
#define PPLUG_AVX512_F16C __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")))

// A quantized activation row, per pair of blocks (b, b + 1) in the order the weights unpack to:
// bytes [x_b[0:16], x_b+1[0:16], x_b[16:32], x_b+1[16:32]], so 32-bit lanes 0-3 and 8-11 hold
// block b's products and lanes 4-7 and 12-15 block b + 1's. An odd last block pairs with a zero
// block of scale 0.
struct PairRow {
  int8_t* q;        // 64 bytes per pair
  float* scale;     // 16 floats per pair: the activation scales in the lanes' order
  int32_t* offset;  // 16 int32 per pair: 8 * the sum of each lane's four activations
};

// Row r of activation rows held back to back, `pairs` pairs of blocks each.
inline PairRow row_of(const PairRow& first, int64_t pairs, int64_t r) {
  return PairRow{first.q + r * pairs * 64, first.scale + r * pairs * 16,
                 first.offset + r * pairs * 16};
}

// 32 floats -> 16 + 16 int8 at q_low and q_high, scale max |x| / 127.
PPLUG_AVX512_F16C float quantize_block(const float* x, int8_t* q_low, int8_t* q_high) {
  const __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
  const __m512 amax = _mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1));
  const float d = _mm512_reduce_max_ps(amax) / 127.0f;
  const __m512 id = _mm512_set1_ps(d != 0.0f ? 1.0f / d : 0.0f);
  constexpr int kNearest = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
  const __m512i i0 = _mm512_cvt_roundps_epi32(_mm512_mul_ps(v0, id), kNearest);
  const __m512i i1 = _mm512_cvt_roundps_epi32(_mm512_mul_ps(v1, id), kNearest);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(q_low), _mm512_cvtsepi32_epi8(i0));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(q_high), _mm512_cvtsepi32_epi8(i1));
  return d;
}

PPLUG_AVX512_F16C void quantize_row(const float* x, int64_t blocks, const PairRow& out) {
  const int64_t pairs = (blocks + 1) / 2;
  for (int64_t p = 0; p < pairs; ++p) {
    int8_t* q = out.q + p * 64;
    const float d0 = quantize_block(x + p * 64, q, q + 32);
    float d1 = 0.0f;
    if (2 * p + 1 < blocks) {
      d1 = quantize_block(x + p * 64 + 32, q + 16, q + 48);
    } else {
      std::fill(q + 16, q + 32, int8_t{0});
      std::fill(q + 48, q + 64, int8_t{0});
    }
    const __m512 lanes = _mm512_broadcast_f32x8(
        _mm256_set_m128(_mm_set1_ps(d1), _mm_set1_ps(d0)));  // [d0 x4, d1 x4] twice
    _mm512_storeu_ps(out.scale + p * 16, lanes);
    const __m512i xq = _mm512_loadu_si512(q);
    const __m512i eights = _mm512_maddubs_epi16(_mm512_set1_epi8(8), xq);
    _mm512_storeu_si512(out.offset + p * 16, _mm512_madd_epi16(eights, _mm512_set1_epi16(1)));
  }
}

PPLUG_AVX512_F16C inline uint64_t four_copies(const uint8_t* half) {
  const uint64_t bits = static_cast<uint64_t>(half[0] | (half[1] << 8));
  return bits * 0x0001000100010001ULL;
}

// Σ over one pair: the int32 lane products of weight blocks w0, w1 (w1 null: a zero block) and
// the activations, corrected and scaled, added into acc.
PPLUG_AVX512_F16C inline __m512 pair_product(const uint8_t* w0, const uint8_t* w1, const PairRow& x,
                                             int64_t p, __m512 acc) {
  const __m128i raw0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w0 + 2));
  const __m128i raw1 = w1 != nullptr ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(w1 + 2))
                                     : _mm_setzero_si128();
  const __m256i raw = _mm256_inserti128_si256(_mm256_castsi128_si256(raw0), raw1, 1);
  const __m256i low_mask = _mm256_set1_epi8(0x0F);
  const __m256i low = _mm256_and_si256(raw, low_mask);
  const __m256i high = _mm256_and_si256(_mm256_srli_epi16(raw, 4), low_mask);
  const __m512i wq = _mm512_inserti64x4(_mm512_castsi256_si512(low), high, 1);
  const __m512i xq = _mm512_loadu_si512(x.q + p * 64);
  __m512i dot = _mm512_madd_epi16(_mm512_maddubs_epi16(wq, xq), _mm512_set1_epi16(1));
  dot = _mm512_sub_epi32(dot, _mm512_loadu_si512(x.offset + p * 16));
  const __m128i halves = _mm_set_epi64x(static_cast<int64_t>(w1 != nullptr ? four_copies(w1) : 0),
                                        static_cast<int64_t>(four_copies(w0)));
  const __m512 w_scale = _mm512_broadcast_f32x8(_mm256_cvtph_ps(halves));
  const __m512 scale = _mm512_mul_ps(w_scale, _mm512_loadu_ps(x.scale + p * 16));
  return _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), scale, acc);
}

PPLUG_AVX512_F16C float row_dot(const uint8_t* row, int64_t blocks, const PairRow& x) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  int64_t b = 0, p = 0;
  for (; b + 4 <= blocks; b += 4, p += 2) {
    const uint8_t* w = row + b * kQ4_0BlockBytes;
    _mm_prefetch(reinterpret_cast<const char*>(w) + avx512::kPrefetchBytes, _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(w) + avx512::kPrefetchBytes + 64, _MM_HINT_T0);
    acc0 = pair_product(w, w + kQ4_0BlockBytes, x, p, acc0);
    acc1 = pair_product(w + 2 * kQ4_0BlockBytes, w + 3 * kQ4_0BlockBytes, x, p + 1, acc1);
  }
  for (; b < blocks; b += 2, ++p) {
    const uint8_t* w = row + b * kQ4_0BlockBytes;
    acc0 = pair_product(w, b + 1 < blocks ? w + kQ4_0BlockBytes : nullptr, x, p, acc0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

}  // namespace

PPLUG_AVX512_F16C void linear_rows_avx512_q4_0(const float* x, int64_t ldx, int64_t m,
                                               const WeightView& w, int64_t n0, int64_t n1,
                                               float* y, int64_t ldy, bool accumulate) {
  const int64_t k = w.cols, blocks = k / kQuantBlock, pairs = (blocks + 1) / 2;
  const int64_t bytes = row_bytes(WeightType::kQ4_0, k);
  // Per-thread quantized activations; grow to the largest (M, K) seen and are then reused.
  thread_local std::vector<int8_t> q;
  thread_local std::vector<float> scales;
  thread_local std::vector<int32_t> offsets;
  if (q.size() < static_cast<size_t>(m * pairs * 64)) q.resize(m * pairs * 64);
  if (scales.size() < static_cast<size_t>(m * pairs * 16)) {
    scales.resize(m * pairs * 16);
    offsets.resize(m * pairs * 16);
  }
  const PairRow first{q.data(), scales.data(), offsets.data()};
  for (int64_t r = 0; r < m; ++r) quantize_row(x + r * ldx, blocks, row_of(first, pairs, r));
  const auto* base = static_cast<const uint8_t*>(w.data);
  for (int64_t n = n0; n < n1; ++n) {
    for (int64_t r = 0; r < m; ++r) {
      const float s = row_dot(base + n * bytes, blocks, row_of(first, pairs, r));
      float& out = y[r * ldy + n];
      out = accumulate ? out + s : s;
    }
  }
}

#else

void linear_rows_avx512_q4_0(const float*, int64_t, int64_t, const WeightView&, int64_t, int64_t,
                             float*, int64_t, bool) {
  throw Error("linear_rows_avx512_q4_0: not compiled for this target");
}

#endif

}  // namespace pplug::kernels::detail
