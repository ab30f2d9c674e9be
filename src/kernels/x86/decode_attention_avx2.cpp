// AVX2 attention of one query over the cache: scores four keys at a time, a vectorised softmax
// (exp eight lanes at a time), and the weighted sum of values accumulated in registers for the
// usual head sizes (up to 128 dimensions per pass).
#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/decode_attention.h"
#include "kernels/x86/avx2_util.h"
#include "pplug/error.h"

namespace pplug::kernels::detail {

#ifdef PPLUG_HAVE_AVX2_KERNELS
namespace {

using avx2::load8;
using avx2::widen1;

// q . key for one key of hd dimensions (the vector part; the tail is added by the caller).
template <typename T>
PPLUG_AVX2 float dot(const float* q, const T* key, int64_t hd) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= hd; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), load8(key + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), load8(key + i + 8), acc1);
  }
  for (; i + 8 <= hd; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), load8(key + i), acc0);
  float s = avx2::hsum(_mm256_add_ps(acc0, acc1));
  for (; i < hd; ++i) s += q[i] * widen1(key[i]);
  return s;
}

// out[0, hd) = scale * sum_s weight[s] * values[s]; zero weights (masked slots) skipped. Up to
// 16 vectors (128 dimensions) of accumulators stay in registers per pass over the values.
template <int B, typename T>
PPLUG_AVX2 void values_chunk(const T* values, int64_t hd, int64_t length, const float* weight,
                             float scale, float* out) {
  __m256 acc[B];
  for (int j = 0; j < B; ++j) acc[j] = _mm256_setzero_ps();
  for (int64_t s = 0; s < length; ++s) {
    if (weight[s] == 0.0f) continue;
    const __m256 p = _mm256_set1_ps(weight[s]);
    for (int j = 0; j < B; ++j) acc[j] = _mm256_fmadd_ps(p, load8(values + s * hd + 8 * j), acc[j]);
  }
  const __m256 sv = _mm256_set1_ps(scale);
  for (int j = 0; j < B; ++j) _mm256_storeu_ps(out + 8 * j, _mm256_mul_ps(acc[j], sv));
}

template <typename T>
PPLUG_AVX2 void values_pass(const T* values, int64_t hd, int64_t length, const float* weight,
                            float scale, float* out) {
  int64_t d0 = 0;
  for (; d0 + 64 <= hd; d0 += 64) values_chunk<8>(values + d0, hd, length, weight, scale, out + d0);
  for (; d0 + 8 <= hd; d0 += 8) values_chunk<1>(values + d0, hd, length, weight, scale, out + d0);
  for (; d0 < hd; ++d0) {  // dimensions past the last full vector
    float acc = 0;
    for (int64_t s = 0; s < length; ++s) acc += weight[s] * widen1(values[s * hd + d0]);
    out[d0] = acc * scale;
  }
}

template <typename T>
PPLUG_AVX2 void one_head(const float* q, const T* keys, const T* values, int64_t hd, int64_t length,
                         const int64_t* mask, float scale, float* scores, float* out) {
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  float max_score = kNegInf;
  for (int64_t s = 0; s < length; ++s) {
    scores[s] = mask[s] != 0 ? dot(q, keys + s * hd, hd) * scale : kNegInf;
    max_score = std::max(max_score, scores[s]);
  }
  if (max_score == kNegInf) {
    // No visible slot: uniform weights over all slots (what a large finite mask value gives).
    std::fill(scores, scores + length, 1.0f);
    return values_pass(values, hd, length, scores, 1.0f / static_cast<float>(length), out);
  }
  const __m256 max_v = _mm256_set1_ps(max_score);
  const __m256 neg_inf = _mm256_set1_ps(kNegInf);
  __m256 sum_v = _mm256_setzero_ps();
  int64_t s = 0;
  for (; s + 8 <= length; s += 8) {
    const __m256 v = _mm256_loadu_ps(scores + s);
    const __m256 shown = _mm256_cmp_ps(v, neg_inf, _CMP_NEQ_OQ);
    const __m256 e = _mm256_and_ps(shown, avx2::exp_nonpositive(_mm256_sub_ps(v, max_v)));
    _mm256_storeu_ps(scores + s, e);
    sum_v = _mm256_add_ps(sum_v, e);
  }
  float sum = avx2::hsum(sum_v);
  for (; s < length; ++s) {
    scores[s] = scores[s] == kNegInf ? 0.0f : std::exp(scores[s] - max_score);
    sum += scores[s];
  }
  values_pass(values, hd, length, scores, 1.0f / sum, out);
}

}  // namespace

void one_head_avx2(const float* q, const void* keys, const void* values, bool bf16, int64_t hd,
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

void one_head_avx2(const float*, const void*, const void*, bool, int64_t, int64_t, const int64_t*,
                   float, float*, float*) {
  throw Error("one_head_avx2: not compiled for this target");
}

#endif

}  // namespace pplug::kernels::detail
