// How a weight matrix is stored: float32, bfloat16, float16, or llama.cpp's block-quantized
// Q8_0 / Q4_0 layouts (byte for byte, so a row can be handed to or taken from a GGUF file).
//
// Q8_0: blocks of 32 weights, each { float16 d; int8 q[32]; } (34 bytes): w = d * q.
// Q4_0: blocks of 32 weights, each { float16 d; uint8 q[16]; } (18 bytes): weight j of the block
// is d * ((q[j] & 15) - 8) for j < 16 and d * ((q[j - 16] >> 4) - 8) for j >= 16.
// Rows of the quantized types hold cols / 32 blocks; cols must be a multiple of 32.
#pragma once

#include <c10/util/Half.h>

#include <cstdint>
#include <cstring>
#include <string>

namespace pplug::kernels {

enum class WeightType : uint8_t { kF32, kBF16, kF16, kQ8_0, kQ4_0 };

constexpr int64_t kQuantBlock = 32;      // weights per Q8_0 / Q4_0 block
constexpr int64_t kQ8_0BlockBytes = 34;  // float16 scale + 32 int8
constexpr int64_t kQ4_0BlockBytes = 18;  // float16 scale + 16 bytes of two nibbles

// "f32", "bf16", "f16", "q8_0", "q4_0".
const char* weight_type_name(WeightType type);
// The inverse of weight_type_name (also accepts "float32", "bfloat16", "float16"); false when
// `name` is none of them.
bool parse_weight_type(const std::string& name, WeightType* out);

bool is_block_quantized(WeightType type);
// The type a matrix with rows of `cols` weights is stored in when `wanted` is asked for: a
// block-quantized type needs cols to be a multiple of 32, else the matrix falls back to float16
// (as llama.cpp's quantizer does for such tensors).
WeightType storage_type_for(WeightType wanted, int64_t cols);
// Bytes of one row of `cols` weights; throws InvalidArgument when a quantized type's cols is
// not a multiple of 32.
int64_t row_bytes(WeightType type, int64_t cols);

// IEEE half precision, round to nearest even (what F16C and llama.cpp's conversion give).
inline uint16_t float_to_half(float value) { return c10::detail::fp16_ieee_from_fp32_value(value); }
inline float half_to_float(uint16_t bits) { return c10::detail::fp16_ieee_to_fp32_value(bits); }
// bfloat16, round to nearest even (NaN stays NaN).
uint16_t float_to_bf16(float value);
inline float bf16_to_float(uint16_t bits) {
  const uint32_t wide = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &wide, sizeof(f));
  return f;
}

// One row of `cols` float32 values to `type` (the reference quantizers of llama.cpp's layout:
// Q8_0 scale = max|w| / 127 and q = round(w / scale); Q4_0 scale = w_maxabs / -8 and
// q = min(15, trunc(w / scale + 8.5))).
void quantize_row(const float* src, int64_t cols, WeightType type, void* dst);
// One stored row back to float32.
void dequantize_row(const void* src, int64_t cols, WeightType type, float* dst);

}  // namespace pplug::kernels
