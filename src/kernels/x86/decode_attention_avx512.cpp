// AVX-512 attention of one query over the cache: every step vectorised, the output kept in
// registers across keys, and exp computed 16 lanes at a time (scalar expf was ~5% of a step).
#include <algorithm>
#include <limits>

#include "kernels/decode_attention.h"
#include "kernels/x86/avx512_util.h"
#include "pplug/error.h"

namespace pplug::kernels::detail {

#ifdef PPLUG_HAVE_AVX512_KERNELS
namespace {

using avx512::load16;

// exp(x) for x <= 0 to ~2 ulp: x = n ln2 + r with |r| <= ln2/2, e^r by its degree-6 Taylor
// polynomial (remainder < 2e-7 relative), times 2^n via vscalefps (which underflows to 0).
PPLUG_AVX512 inline __m512 exp_nonpositive(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-104.0f));  // below this e^x is 0 in float32 anyway
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);  // ln2 high part
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187045e-06f), r);  // ln2 low part
  __m512 p = _mm512_set1_ps(1.0f / 720);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, n);
}

// Dimensions are processed in chunks of up to kMaxBlocks x 16, with the query chunk and the
// output accumulators in registers; B (the chunk's 16-lane blocks) is a template parameter so
// those arrays really stay in registers.
constexpr int64_t kMaxBlocks = 8;

template <int B>
PPLUG_AVX512 inline __mmask16 block_mask(int64_t j, int64_t width) {
  return j == B - 1 ? avx512::tail_mask(width - int64_t{16} * (B - 1)) : __mmask16(0xFFFF);
}

// raw[s] (+)= q . keys[s] over one chunk of `width` dimensions, four keys at a time.
template <int B, typename T>
PPLUG_AVX512 void chunk_scores(const float* q, const T* keys, int64_t hd, int64_t width,
                               int64_t length, float* raw, bool accumulate) {
  __m512 qv[B];
  for (int64_t j = 0; j < B; ++j) {
    qv[j] = _mm512_maskz_loadu_ps(block_mask<B>(j, width), q + 16 * j);
  }
  int64_t s = 0;
  for (; s + 4 <= length; s += 4) {
    __m512 acc[4];
    for (int64_t u = 0; u < 4; ++u) {
      acc[u] = _mm512_setzero_ps();
      for (int64_t j = 0; j < B; ++j) {
        acc[u] = _mm512_fmadd_ps(
            qv[j], load16(keys + (s + u) * hd + 16 * j, block_mask<B>(j, width)), acc[u]);
      }
    }
    for (int64_t u = 0; u < 4; ++u) {
      const float dot = _mm512_reduce_add_ps(acc[u]);
      raw[s + u] = accumulate ? raw[s + u] + dot : dot;
    }
  }
  for (; s < length; ++s) {
    __m512 acc = _mm512_setzero_ps();
    for (int64_t j = 0; j < B; ++j) {
      acc = _mm512_fmadd_ps(qv[j], load16(keys + s * hd + 16 * j, block_mask<B>(j, width)), acc);
    }
    const float dot = _mm512_reduce_add_ps(acc);
    raw[s] = accumulate ? raw[s] + dot : dot;
  }
}

// out[0, width) = scale * sum_s weight[s] * values[s] over one chunk; zero weights skipped.
template <int B, typename T>
PPLUG_AVX512 void chunk_values(const T* values, int64_t hd, int64_t width, int64_t length,
                               const float* weight, float scale, float* out) {
  __m512 acc[B];
  for (int64_t j = 0; j < B; ++j) acc[j] = _mm512_setzero_ps();
  for (int64_t s = 0; s < length; ++s) {
    if (weight[s] == 0.0f) continue;  // masked slot
    const __m512 p = _mm512_set1_ps(weight[s]);
    for (int64_t j = 0; j < B; ++j) {
      acc[j] =
          _mm512_fmadd_ps(p, load16(values + s * hd + 16 * j, block_mask<B>(j, width)), acc[j]);
    }
  }
  const __m512 sv = _mm512_set1_ps(scale);
  for (int64_t j = 0; j < B; ++j) {
    _mm512_mask_storeu_ps(out + 16 * j, block_mask<B>(j, width), _mm512_mul_ps(acc[j], sv));
  }
}

template <typename T>
PPLUG_AVX512 void scores_pass(const float* q, const T* keys, int64_t hd, int64_t length,
                              float* raw) {
  for (int64_t d0 = 0; d0 < hd; d0 += kMaxBlocks * 16) {
    const int64_t width = std::min<int64_t>(kMaxBlocks * 16, hd - d0);
    const bool acc = d0 > 0;
    switch ((width + 15) / 16) {
      case 1:
        chunk_scores<1>(q + d0, keys + d0, hd, width, length, raw, acc);
        break;
      case 2:
        chunk_scores<2>(q + d0, keys + d0, hd, width, length, raw, acc);
        break;
      case 3:
        chunk_scores<3>(q + d0, keys + d0, hd, width, length, raw, acc);
        break;
      case 4:
        chunk_scores<4>(q + d0, keys + d0, hd, width, length, raw, acc);
        break;
      case 5:
        chunk_scores<5>(q + d0, keys + d0, hd, width, length, raw, acc);
        break;
      case 6:
        chunk_scores<6>(q + d0, keys + d0, hd, width, length, raw, acc);
        break;
      case 7:
        chunk_scores<7>(q + d0, keys + d0, hd, width, length, raw, acc);
        break;
      default:
        chunk_scores<8>(q + d0, keys + d0, hd, width, length, raw, acc);
        break;
    }
  }
}

template <typename T>
PPLUG_AVX512 void values_pass(const T* values, int64_t hd, int64_t length, const float* weight,
                              float scale, float* out) {
  for (int64_t d0 = 0; d0 < hd; d0 += kMaxBlocks * 16) {
    const int64_t width = std::min<int64_t>(kMaxBlocks * 16, hd - d0);
    const T* v = values + d0;
    switch ((width + 15) / 16) {
      case 1:
        chunk_values<1>(v, hd, width, length, weight, scale, out + d0);
        break;
      case 2:
        chunk_values<2>(v, hd, width, length, weight, scale, out + d0);
        break;
      case 3:
        chunk_values<3>(v, hd, width, length, weight, scale, out + d0);
        break;
      case 4:
        chunk_values<4>(v, hd, width, length, weight, scale, out + d0);
        break;
      case 5:
        chunk_values<5>(v, hd, width, length, weight, scale, out + d0);
        break;
      case 6:
        chunk_values<6>(v, hd, width, length, weight, scale, out + d0);
        break;
      case 7:
        chunk_values<7>(v, hd, width, length, weight, scale, out + d0);
        break;
      default:
        chunk_values<8>(v, hd, width, length, weight, scale, out + d0);
        break;
    }
  }
}

template <typename T>
PPLUG_AVX512 void one_head(const float* q, const T* keys, const T* values, int64_t hd,
                           int64_t length, const int64_t* mask, float scale, float* scores,
                           float* out) {
  scores_pass(q, keys, hd, length, scores);
  // Scale, hide masked slots (-inf) and find the maximum, 16 slots at a time.
  const __m512 neg_inf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  __m512 max_v = neg_inf;
  for (int64_t s = 0; s < length; s += 16) {
    const __mmask16 m = avx512::tail_mask(std::min<int64_t>(16, length - s));
    const __m512i mask_lo = _mm512_maskz_loadu_epi64(static_cast<__mmask8>(m), mask + s);
    const __m512i mask_hi = _mm512_maskz_loadu_epi64(static_cast<__mmask8>(m >> 8), mask + s + 8);
    const auto visible = static_cast<__mmask16>(_mm512_test_epi64_mask(mask_lo, mask_lo) |
                                                (_mm512_test_epi64_mask(mask_hi, mask_hi) << 8));
    const __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, scores + s), _mm512_set1_ps(scale));
    const __m512 shown = _mm512_mask_mov_ps(neg_inf, visible, v);
    _mm512_mask_storeu_ps(scores + s, m, shown);
    max_v = _mm512_max_ps(max_v, shown);
  }
  const float max_score = _mm512_reduce_max_ps(max_v);
  if (max_score == -std::numeric_limits<float>::infinity()) {
    // No visible slot: uniform weights over all slots (what a large finite mask value gives).
    for (int64_t s = 0; s < length; ++s) scores[s] = 1.0f;
    return values_pass(values, hd, length, scores, 1.0f / static_cast<float>(length), out);
  }
  const __m512 max_b = _mm512_set1_ps(max_score);
  __m512 sum = _mm512_setzero_ps();
  for (int64_t s = 0; s < length; s += 16) {
    const __mmask16 m = avx512::tail_mask(std::min<int64_t>(16, length - s));
    const __m512 v = _mm512_maskz_loadu_ps(m, scores + s);
    const __mmask16 shown = _mm512_mask_cmp_ps_mask(m, v, neg_inf, _CMP_NEQ_OQ);
    const __m512 e = _mm512_maskz_mov_ps(shown, exp_nonpositive(_mm512_sub_ps(v, max_b)));
    _mm512_mask_storeu_ps(scores + s, m, e);
    sum = _mm512_add_ps(sum, e);
  }
  values_pass(values, hd, length, scores, 1.0f / _mm512_reduce_add_ps(sum), out);
}

}  // namespace

void one_head_avx512(const float* q, const void* keys, const void* values, bool bf16, int64_t hd,
                     int64_t length, const int64_t* mask, float scale, float* scores, float* out) {
  if (bf16) {
    one_head(q, static_cast<const uint16_t*>(keys), static_cast<const uint16_t*>(values), hd,
             length, mask, scale, scores, out);
  } else {
    one_head(q, static_cast<const float*>(keys), static_cast<const float*>(values), hd, length,
             mask, scale, scores, out);
  }
}

#else

void one_head_avx512(const float*, const void*, const void*, bool, int64_t, int64_t, const int64_t*,
                     float, float*, float*) {
  throw Error("one_head_avx512: not compiled for this target");
}

#endif

}  // namespace pplug::kernels::detail
