#include "kernels/weight_type.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "pplug/error.h"

namespace pplug::kernels {

const char* weight_type_name(WeightType type) {
  switch (type) {
    case WeightType::kF32:
      return "f32";
    case WeightType::kBF16:
      return "bf16";
    case WeightType::kF16:
      return "f16";
    case WeightType::kQ8_0:
      return "q8_0";
    case WeightType::kQ4_0:
      return "q4_0";
  }
  return "?";
}

bool parse_weight_type(const std::string& name, WeightType* out) {
  struct Alias {
    const char* name;
    WeightType type;
  };
  static const Alias kAliases[] = {{"f32", WeightType::kF32},   {"float32", WeightType::kF32},
                                   {"bf16", WeightType::kBF16}, {"bfloat16", WeightType::kBF16},
                                   {"f16", WeightType::kF16},   {"float16", WeightType::kF16},
                                   {"q8_0", WeightType::kQ8_0}, {"q4_0", WeightType::kQ4_0}};
  for (const auto& alias : kAliases) {
    if (name == alias.name) {
      *out = alias.type;
      return true;
    }
  }
  return false;
}

bool is_block_quantized(WeightType type) {
  return type == WeightType::kQ8_0 || type == WeightType::kQ4_0;
}

WeightType storage_type_for(WeightType wanted, int64_t cols) {
  return is_block_quantized(wanted) && cols % kQuantBlock != 0 ? WeightType::kF16 : wanted;
}

int64_t row_bytes(WeightType type, int64_t cols) {
  if (is_block_quantized(type) && cols % kQuantBlock != 0) {
    throw InvalidArgument(std::string(weight_type_name(type)) + " needs rows whose length is a " +
                          "multiple of 32; this one has " + std::to_string(cols));
  }
  switch (type) {
    case WeightType::kF32:
      return cols * 4;
    case WeightType::kBF16:
    case WeightType::kF16:
      return cols * 2;
    case WeightType::kQ8_0:
      return cols / kQuantBlock * kQ8_0BlockBytes;
    case WeightType::kQ4_0:
      return cols / kQuantBlock * kQ4_0BlockBytes;
  }
  return 0;
}

uint16_t float_to_bf16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  if (std::isnan(value)) return static_cast<uint16_t>((bits >> 16) | 0x40);  // quiet NaN
  bits += 0x7FFF + ((bits >> 16) & 1);                                       // nearest even
  return static_cast<uint16_t>(bits >> 16);
}

namespace {

// roundf (halves away from zero) for |v| < 2^31, without the libm call a baseline x86-64 build
// makes for it (it was a third of quantizing time at load): v - trunc(v) is exact in float.
inline int round_half_away(float v) {
  int q = static_cast<int>(v);
  const float frac = v - static_cast<float>(q);
  if (frac >= 0.5f) ++q;
  if (frac <= -0.5f) --q;
  return q;
}

void quantize_q8_0(const float* x, int64_t cols, uint8_t* out) {
  for (int64_t b = 0; b < cols / kQuantBlock; ++b, x += kQuantBlock, out += kQ8_0BlockBytes) {
    float amax = 0.0f;
    for (int64_t j = 0; j < kQuantBlock; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const uint16_t half = float_to_half(d);
    std::memcpy(out, &half, 2);
    for (int64_t j = 0; j < kQuantBlock; ++j) {
      out[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(round_half_away(x[j] * id)));
    }
  }
}

void quantize_q4_0(const float* x, int64_t cols, uint8_t* out) {
  constexpr int64_t kHalf = kQuantBlock / 2;
  for (int64_t b = 0; b < cols / kQuantBlock; ++b, x += kQuantBlock, out += kQ4_0BlockBytes) {
    float amax = 0.0f, max = 0.0f;  // the value of largest magnitude, with its sign
    for (int64_t j = 0; j < kQuantBlock; ++j) {
      if (amax < std::fabs(x[j])) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const uint16_t half = float_to_half(d);
    std::memcpy(out, &half, 2);
    for (int64_t j = 0; j < kHalf; ++j) {
      const int lo = std::min(15, static_cast<int>(static_cast<int8_t>(x[j] * id + 8.5f)));
      const int hi = std::min(15, static_cast<int>(static_cast<int8_t>(x[kHalf + j] * id + 8.5f)));
      out[2 + j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

}  // namespace

void quantize_row(const float* src, int64_t cols, WeightType type, void* dst) {
  row_bytes(type, cols);  // checks the length
  switch (type) {
    case WeightType::kF32:
      std::memcpy(dst, src, static_cast<size_t>(cols) * 4);
      break;
    case WeightType::kBF16: {
      auto* out = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < cols; ++i) out[i] = float_to_bf16(src[i]);
      break;
    }
    case WeightType::kF16: {
      auto* out = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < cols; ++i) out[i] = float_to_half(src[i]);
      break;
    }
    case WeightType::kQ8_0:
      quantize_q8_0(src, cols, static_cast<uint8_t*>(dst));
      break;
    case WeightType::kQ4_0:
      quantize_q4_0(src, cols, static_cast<uint8_t*>(dst));
      break;
  }
}

void dequantize_row(const void* src, int64_t cols, WeightType type, float* dst) {
  row_bytes(type, cols);
  const auto* in = static_cast<const uint8_t*>(src);
  switch (type) {
    case WeightType::kF32:
      std::memcpy(dst, src, static_cast<size_t>(cols) * 4);
      break;
    case WeightType::kBF16:
      for (int64_t i = 0; i < cols; ++i)
        dst[i] = bf16_to_float(static_cast<const uint16_t*>(src)[i]);
      break;
    case WeightType::kF16:
      for (int64_t i = 0; i < cols; ++i)
        dst[i] = half_to_float(static_cast<const uint16_t*>(src)[i]);
      break;
    case WeightType::kQ8_0:
      for (int64_t b = 0; b < cols / kQuantBlock; ++b, in += kQ8_0BlockBytes) {
        uint16_t half;
        std::memcpy(&half, in, 2);
        const float d = half_to_float(half);
        for (int64_t j = 0; j < kQuantBlock; ++j) {
          *dst++ = d * static_cast<float>(static_cast<int8_t>(in[2 + j]));
        }
      }
      break;
    case WeightType::kQ4_0:
      for (int64_t b = 0; b < cols / kQuantBlock; ++b, in += kQ4_0BlockBytes, dst += kQuantBlock) {
        uint16_t half;
        std::memcpy(&half, in, 2);
        const float d = half_to_float(half);
        for (int64_t j = 0; j < kQuantBlock / 2; ++j) {
          dst[j] = d * static_cast<float>((in[2 + j] & 15) - 8);
          dst[j + kQuantBlock / 2] = d * static_cast<float>((in[2 + j] >> 4) - 8);
        }
      }
      break;
  }
}

}  // namespace pplug::kernels
