// Weight rows widened to float32 with AVX2: the prefill and training paths of the smaller
// weight types multiply through float32 panels made by this (kernels/dense_linear.cpp).
#include "kernels/packed_weight.h"
#include "kernels/x86/avx2_util.h"
#include "pplug/error.h"

namespace pplug::kernels::detail {

#ifdef PPLUG_HAVE_AVX2_KERNELS
namespace {

template <typename T>
PPLUG_AVX2 void widen_row(const T* in, int64_t cols, float* out) {
  int64_t i = 0;
  for (; i + 8 <= cols; i += 8) _mm256_storeu_ps(out + i, avx2::load8(in + i));
  for (; i < cols; ++i) out[i] = avx2::widen1(in[i]);
}

PPLUG_AVX2 void q8_0_row(const uint8_t* in, int64_t blocks, float* out) {
  for (int64_t b = 0; b < blocks; ++b, in += kQ8_0BlockBytes, out += kQuantBlock) {
    const __m256 d = _mm256_set1_ps(_cvtsh_ss(static_cast<unsigned short>(in[0] | (in[1] << 8))));
    for (int j = 0; j < 4; ++j) {
      const __m128i q = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(in + 2 + 8 * j));
      _mm256_storeu_ps(out + 8 * j, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q))));
    }
  }
}

PPLUG_AVX2 void q4_0_row(const uint8_t* in, int64_t blocks, float* out) {
  const __m128i low_mask = _mm_set1_epi8(0x0F), eight = _mm_set1_epi8(8);
  for (int64_t b = 0; b < blocks; ++b, in += kQ4_0BlockBytes, out += kQuantBlock) {
    const __m256 d = _mm256_set1_ps(_cvtsh_ss(static_cast<unsigned short>(in[0] | (in[1] << 8))));
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 2));
    const __m128i halves[2] = {
        _mm_sub_epi8(_mm_and_si128(raw, low_mask), eight),
        _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(raw, 4), low_mask), eight)};
    for (int h = 0; h < 2; ++h) {
      _mm256_storeu_ps(out + 16 * h,
                       _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(halves[h]))));
      _mm256_storeu_ps(
          out + 16 * h + 8,
          _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(halves[h], 8)))));
    }
  }
}

}  // namespace

PPLUG_AVX2 void dequantize_rows_avx2(const WeightView& w, int64_t n0, int64_t n1, float* out) {
  const int64_t bytes = row_bytes(w.type, w.cols);
  const auto* base = static_cast<const uint8_t*>(w.data);
  for (int64_t n = n0; n < n1; ++n) {
    const uint8_t* row = base + n * bytes;
    float* dst = out + (n - n0) * w.cols;
    switch (w.type) {
      case WeightType::kF32:
        widen_row(reinterpret_cast<const float*>(row), w.cols, dst);
        break;
      case WeightType::kBF16:
        widen_row(reinterpret_cast<const uint16_t*>(row), w.cols, dst);
        break;
      case WeightType::kF16:
        widen_row(reinterpret_cast<const avx2::Half*>(row), w.cols, dst);
        break;
      case WeightType::kQ8_0:
        q8_0_row(row, w.cols / kQuantBlock, dst);
        break;
      case WeightType::kQ4_0:
        q4_0_row(row, w.cols / kQuantBlock, dst);
        break;
    }
  }
}

#else

void dequantize_rows_avx2(const WeightView&, int64_t, int64_t, float*) {
  throw Error("dequantize_rows_avx2: not compiled for this target");
}

#endif

}  // namespace pplug::kernels::detail
