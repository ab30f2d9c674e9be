// float32 -> bfloat16 (round to nearest even) with AVX512_BF16's vcvtne2ps2bf16: the prefill
// path of block-quantized weights on such CPUs rounds its float32 panels and activations to
// bf16 for oneDNN's bf16 GEMM (kernels/dense_linear.cpp).
#include "kernels/packed_weight.h"
#include "kernels/x86/avx512_util.h"
#include "pplug/error.h"

namespace pplug::kernels::detail {

#ifdef PPLUG_HAVE_AVX512_KERNELS

__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16"))) void float_to_bf16_avx512(
    const float* in, int64_t count, uint16_t* out) {
  int64_t i = 0;
  for (; i + 32 <= count; i += 32) {
    const __m512bh pair =
        _mm512_cvtne2ps_pbh(_mm512_loadu_ps(in + i + 16), _mm512_loadu_ps(in + i));
    _mm512_storeu_si512(out + i, reinterpret_cast<__m512i>(pair));
  }
  for (; i < count; i += 16) {
    const __mmask16 mask = avx512::tail_mask(count - i < 16 ? count - i : 16);
    const __m256bh half = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(mask, in + i));
    _mm256_mask_storeu_epi16(out + i, mask, reinterpret_cast<__m256i>(half));
  }
}

#else

void float_to_bf16_avx512(const float*, int64_t, uint16_t*) {
  throw Error("float_to_bf16_avx512: not compiled for this target");
}

#endif

}  // namespace pplug::kernels::detail
