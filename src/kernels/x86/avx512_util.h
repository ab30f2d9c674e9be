// Shared AVX-512 helpers. Everything here carries the target attribute, so it compiles into a
// library built for plain x86-64 and is only ever called after best_isa() said kAvx512.
#pragma once

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define PPLUG_HAVE_AVX512_KERNELS 1
// GCC 12 reports the deliberately undefined registers inside its own intrinsics
// (_mm512_undefined_*) as uninitialised; the warnings are false positives.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstdint>

#define PPLUG_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))

namespace pplug::kernels::avx512 {

// Sixteen float32 lanes from float32 or bfloat16 memory (bf16 -> f32 is a 16-bit left shift).
PPLUG_AVX512 inline __m512 load16(const float* p) { return _mm512_loadu_ps(p); }
PPLUG_AVX512 inline __m512 load16(const uint16_t* p) {
  const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(raw), 16));
}
// The first lanes selected by `mask`, zeros elsewhere (no read past the mask).
PPLUG_AVX512 inline __m512 load16(const float* p, __mmask16 mask) {
  return _mm512_maskz_loadu_ps(mask, p);
}
PPLUG_AVX512 inline __m512 load16(const uint16_t* p, __mmask16 mask) {
  const __m256i raw = _mm256_maskz_loadu_epi16(mask, p);
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(raw), 16));
}
// How far ahead of the current weight row the one-row kernels prefetch. One core keeps only a
// few dozen misses in flight; a 4 KB lead covers DRAM latency at ~30 GB/s (tuned on EPYC Zen 5
// from 1 KB to 8 KB: 4 KB best for float32 and bfloat16 weights alike).
constexpr int kPrefetchBytes = 4096;

PPLUG_AVX512 inline __mmask16 tail_mask(int64_t remaining) {
  return static_cast<__mmask16>((1u << remaining) - 1u);
}

}  // namespace pplug::kernels::avx512
#endif
