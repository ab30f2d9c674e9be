// Compiled with -ffp-contract=off (cmake/pplug_base_sources.cmake): llama.cpp's reference rounds
// `dl * q - ml` in two steps, and a target with FMA would otherwise fuse it.
#include "format/ggml_dequantize.h"

#include <cmath>
#include <cstring>
#include <string>

#include "format/gguf_metadata.h"
#include "pplug/error.h"

namespace pplug::detail {
namespace {

constexpr int kSuper = 256;  // weights per K-quant super-block (ggml's QK_K)

// IEEE half precision to float32 (exact: every half is a float).
float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu;
  const uint32_t mantissa = h & 0x3ffu;
  uint32_t bits = 0;
  if (exponent == 0x1f) {  // infinity or NaN (payload kept)
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent != 0) {  // normal: rebias 15 -> 127
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else {  // zero or subnormal: mantissa * 2^-24, exact in float32
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign != 0 ? -magnitude : magnitude;
  }
  float f = 0.0f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

float f16_at(const uint8_t* p) { return half_to_float(static_cast<uint16_t>(p[0] | (p[1] << 8))); }

uint32_t u32_at(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

// The nibble of weight e (0..31) of a 32-weight block: low nibbles hold weights 0..15, high
// nibbles 16..31.
int nibble32(const uint8_t* qs, int e) { return e < 16 ? qs[e] & 15 : qs[e - 16] >> 4; }

// Q4_1: { f16 d; f16 m; u8 qs[16] }.
void expand_q4_1(const uint8_t* b, float* y) {
  const float d = f16_at(b);
  const float m = f16_at(b + 2);
  const uint8_t* qs = b + 4;
  for (int e = 0; e < 32; ++e) y[e] = static_cast<float>(nibble32(qs, e)) * d + m;
}

// Q5_0: { f16 d; u8 qh[4]; u8 qs[16] }; bit e of qh is the fifth bit of weight e.
void expand_q5_0(const uint8_t* b, float* y) {
  const float d = f16_at(b);
  const uint32_t qh = u32_at(b + 2);
  const uint8_t* qs = b + 6;
  for (int e = 0; e < 32; ++e) {
    const int q = nibble32(qs, e) | static_cast<int>(((qh >> e) & 1u) << 4);
    y[e] = static_cast<float>(q - 16) * d;
  }
}

// Q5_1: { f16 d; f16 m; u8 qh[4]; u8 qs[16] }.
void expand_q5_1(const uint8_t* b, float* y) {
  const float d = f16_at(b);
  const float m = f16_at(b + 2);
  const uint32_t qh = u32_at(b + 4);
  const uint8_t* qs = b + 8;
  for (int e = 0; e < 32; ++e) {
    const int q = nibble32(qs, e) | static_cast<int>(((qh >> e) & 1u) << 4);
    y[e] = static_cast<float>(q) * d + m;
  }
}

// Q2_K: { u8 scales[16]; u8 qs[64]; f16 d; f16 dmin }. Weight e = 128 h + 32 j + r (h < 2,
// j < 4, r < 32) is bits 2j..2j+1 of qs[32 h + r]; sub-block e / 16 has the 4-bit scale in the
// low nibble of its scales byte and the 4-bit min in the high nibble.
void expand_q2_k(const uint8_t* b, float* y) {
  const uint8_t* scales = b;
  const uint8_t* qs = b + 16;
  const float d = f16_at(b + 80);
  const float dmin = f16_at(b + 82);
  for (int e = 0; e < kSuper; ++e) {
    const int h = e / 128;
    const int j = (e % 128) / 32;
    const int r = e % 32;
    const int q = (qs[32 * h + r] >> (2 * j)) & 3;
    const uint8_t sc = scales[e / 16];
    const float dl = d * static_cast<float>(sc & 15);
    const float ml = dmin * static_cast<float>(sc >> 4);
    y[e] = dl * static_cast<float>(q) - ml;
  }
}

// Q3_K: { u8 hmask[32]; u8 qs[64]; u8 scales[12]; f16 d }. Weight e = 128 h + 32 j + r has its
// two low bits as in Q2_K and its high bit in bit 4h + j of hmask[r]; a clear high bit means
// q - 4. The 16 6-bit scales: scale s has its low 4 bits in the low (s < 8) or high (s >= 8)
// nibble of scales[s % 8], its high 2 bits at bit 2 (s / 4) of scales[8 + s % 4]; it is
// stored plus 32.
void expand_q3_k(const uint8_t* b, float* y) {
  const uint8_t* hmask = b;
  const uint8_t* qs = b + 32;
  const uint8_t* scales = b + 96;
  const float d = f16_at(b + 108);
  int sub_scale[16];
  for (int s = 0; s < 16; ++s) {
    const int low = s < 8 ? scales[s] & 15 : scales[s - 8] >> 4;
    const int high = (scales[8 + s % 4] >> (2 * (s / 4))) & 3;
    sub_scale[s] = (low | (high << 4)) - 32;
  }
  for (int e = 0; e < kSuper; ++e) {
    const int h = e / 128;
    const int j = (e % 128) / 32;
    const int r = e % 32;
    const int low = (qs[32 * h + r] >> (2 * j)) & 3;
    const bool high = ((hmask[r] >> (4 * h + j)) & 1) != 0;
    const int q = low - (high ? 0 : 4);
    const int sub_block = e / 16;
    const float dl = d * static_cast<float>(sub_scale[sub_block]);
    y[e] = dl * static_cast<float>(q);
  }
}

// The 6-bit scale and min of sub-block s (0..7) of a Q4_K / Q5_K super-block, packed in 12
// bytes: for s < 4 the low 6 bits of bytes s (scale) and s + 4 (min); for s >= 4 the low
// (scale) and high (min) nibble of byte s + 4, topped by the 2 high bits of bytes s - 4 (scale)
// and s (min).
void k4_scale_min(const uint8_t* scales, int s, int* sc, int* mn) {
  if (s < 4) {
    *sc = scales[s] & 63;
    *mn = scales[s + 4] & 63;
  } else {
    *sc = (scales[s + 4] & 15) | ((scales[s - 4] >> 6) << 4);
    *mn = (scales[s + 4] >> 4) | ((scales[s] >> 6) << 4);
  }
}

// Q4_K: { f16 d; f16 dmin; u8 scales[12]; u8 qs[128] }. Weight e = 64 p + 32 k + r (p < 4,
// k < 2, r < 32) is the low (k = 0) or high (k = 1) nibble of qs[32 p + r]; sub-block e / 32.
// Q5_K: { f16 d; f16 dmin; u8 scales[12]; u8 qh[32]; u8 qs[128] } adds bit e / 32 of qh[r] as
// the fifth bit (qh == nullptr for Q4_K).
void expand_q45_k(const uint8_t* b, const uint8_t* qh, const uint8_t* qs, float* y) {
  const float d = f16_at(b);
  const float dmin = f16_at(b + 2);
  const uint8_t* scales = b + 4;
  for (int s = 0; s < 8; ++s) {
    int sc = 0;
    int mn = 0;
    k4_scale_min(scales, s, &sc, &mn);
    const float dl = d * static_cast<float>(sc);
    const float ml = dmin * static_cast<float>(mn);
    const int p = s / 2;
    const int shift = 4 * (s % 2);
    for (int r = 0; r < 32; ++r) {
      int q = (qs[32 * p + r] >> shift) & 15;
      if (qh != nullptr) q |= ((qh[r] >> s) & 1) << 4;
      y[32 * s + r] = dl * static_cast<float>(q) - ml;
    }
  }
}

void expand_q4_k(const uint8_t* b, float* y) { expand_q45_k(b, nullptr, b + 16, y); }
void expand_q5_k(const uint8_t* b, float* y) { expand_q45_k(b, b + 16, b + 48, y); }

// Q6_K: { u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d }. Weight e = 128 h + 32 g + r (h < 2,
// g < 4, r < 32) has its low 4 bits in the low (g < 2) or high (g >= 2) nibble of
// ql[64 h + 32 (g % 2) + r], its high 2 bits at bit 2g of qh[32 h + r]; sub-block e / 16.
void expand_q6_k(const uint8_t* b, float* y) {
  const uint8_t* ql = b;
  const uint8_t* qh = b + 128;
  const uint8_t* scales = b + 192;
  const float d = f16_at(b + 208);
  for (int e = 0; e < kSuper; ++e) {
    const int h = e / 128;
    const int g = (e % 128) / 32;
    const int r = e % 32;
    const int low = (ql[64 * h + 32 * (g % 2) + r] >> (4 * (g / 2))) & 15;
    const int high = (qh[32 * h + r] >> (2 * g)) & 3;
    const int q = (low | (high << 4)) - 32;
    const float dl = d * static_cast<float>(static_cast<int8_t>(scales[e / 16]));
    y[e] = dl * static_cast<float>(q);
  }
}

struct Expander {
  GgmlType type;
  int64_t block;  // weights per block
  void (*expand)(const uint8_t* block, float* out);
};

constexpr Expander kExpanders[] = {
    {GgmlType::kQ4_1, 32, expand_q4_1},     {GgmlType::kQ5_0, 32, expand_q5_0},
    {GgmlType::kQ5_1, 32, expand_q5_1},     {GgmlType::kQ2_K, kSuper, expand_q2_k},
    {GgmlType::kQ3_K, kSuper, expand_q3_k}, {GgmlType::kQ4_K, kSuper, expand_q4_k},
    {GgmlType::kQ5_K, kSuper, expand_q5_k}, {GgmlType::kQ6_K, kSuper, expand_q6_k},
};

const Expander* expander_of(uint32_t type) {
  for (const auto& x : kExpanders) {
    if (static_cast<uint32_t>(x.type) == type) return &x;
  }
  return nullptr;
}

}  // namespace

bool can_dequantize_ggml(uint32_t ggml_type) { return expander_of(ggml_type) != nullptr; }

void dequantize_ggml_row(uint32_t ggml_type, const uint8_t* bytes, int64_t n, float* out) {
  const Expander* x = expander_of(ggml_type);
  if (x == nullptr) {
    throw InvalidArgument("dequantize_ggml_row: cannot expand ggml type " +
                          ggml_type_name(ggml_type) + " (" + std::to_string(ggml_type) +
                          "); expected Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K or Q6_K");
  }
  if (n < 0 || n % x->block != 0) {
    throw InvalidArgument("dequantize_ggml_row: " + std::to_string(n) + " values of " +
                          ggml_type_name(ggml_type) + " are not a whole number of its " +
                          std::to_string(x->block) + "-value blocks");
  }
  // The layout table of gguf_metadata.cpp is the one home of the block sizes in bytes.
  const auto block_bytes = static_cast<int64_t>(ggml_type_bytes(ggml_type, x->block));
  for (int64_t i = 0; i < n / x->block; ++i) {
    x->expand(bytes + i * block_bytes, out + i * x->block);
  }
}

}  // namespace pplug::detail
