// Shared AVX2 helpers. Every function here carries the target attribute (a lambda would not
// inherit it, so there are none), so it compiles into a library built for plain x86-64 and is
// only ever called after best_isa() said kAvx2 or better.
#pragma once

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define PPLUG_HAVE_AVX2_KERNELS 1
#include <immintrin.h>

#include <cstdint>

#include "kernels/weight_type.h"

#define PPLUG_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace pplug::kernels::avx2 {

// Eight float32 lanes from float32, bfloat16 (a 16-bit left shift) or float16 (F16C) memory.
struct Half {
  uint16_t bits;
};
PPLUG_AVX2 inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
PPLUG_AVX2 inline __m256 load8(const uint16_t* p) {
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(raw), 16));
}
PPLUG_AVX2 inline __m256 load8(const Half* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
PPLUG_AVX2 inline float widen1(float v) { return v; }
PPLUG_AVX2 inline float widen1(uint16_t v) { return bf16_to_float(v); }
PPLUG_AVX2 inline float widen1(Half v) { return _cvtsh_ss(v.bits); }

PPLUG_AVX2 inline float hsum(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 1)));
}

// {sum(a), sum(b), sum(c), sum(d)}: four horizontal sums sharing their shuffles.
PPLUG_AVX2 inline __m128 hsum4(__m256 a, __m256 b, __m256 c, __m256 d) {
  const __m256 ab = _mm256_hadd_ps(a, b);
  const __m256 cd = _mm256_hadd_ps(c, d);
  const __m256 abcd = _mm256_hadd_ps(ab, cd);
  return _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1));
}

PPLUG_AVX2 inline float hmax(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_max_ss(s, _mm_shuffle_ps(s, s, 1)));
}

// exp(x) for x <= 0 to ~2 ulp: x = n ln2 + r with |r| <= ln2/2, e^r by its degree-6 Taylor
// polynomial, times 2^n built in the exponent bits (n >= -126 after the clamp; below that e^x
// is under float32's normal range and flushes to 0 here).
PPLUG_AVX2 inline __m256 exp_nonpositive(__m256 x) {
  const __m256 low = _mm256_set1_ps(-87.0f);
  const __m256 tiny = _mm256_cmp_ps(x, low, _CMP_LT_OQ);
  x = _mm256_max_ps(x, low);
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428606765330187045e-06f), r);
  __m256 p = _mm256_set1_ps(1.0f / 720);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  const __m256i bits =
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_andnot_ps(tiny, _mm256_mul_ps(p, _mm256_castsi256_ps(bits)));
}

// How far ahead of the current weight row the streaming kernels prefetch (as in the AVX-512
// kernels: a few KB lead keeps enough misses in flight on one core).
constexpr int kPrefetchBytes = 4096;

}  // namespace pplug::kernels::avx2
#endif
