// Expands llama.cpp's block-quantized GGUF tensor types that pplug does not compute in (Q4_1,
// Q5_0, Q5_1 and the K-quants Q2_K .. Q6_K) to float32, value for value what llama.cpp's
// reference dequantizers (ggml-quants.c, dequantize_row_*) give: the loader expands such a
// matrix once and stores it in a type pplug computes in. Libtorch-free.
//
// Every f16 below is IEEE half precision, little-endian; "q" is the quantized integer of one
// weight, and each formula is evaluated in float32 in the order written (no fused multiply-add).
//
// 32-weight blocks (weight e = 0..31; nibble(e) = low nibble of qs[e] for e < 16, high nibble of
// qs[e - 16] otherwise; for the 5-bit types bit e of the little-endian uint32 qh is q's fifth bit):
//   Q4_1 { f16 d, m; u8 qs[16] }             20 bytes  w = q * d + m,          q = nibble(e)
//   Q5_0 { f16 d; u8 qh[4], qs[16] }         22 bytes  w = (q - 16) * d,       q = nibble | 16*bit
//   Q5_1 { f16 d, m; u8 qh[4], qs[16] }      24 bytes  w = q * d + m,          q = nibble | 16*bit
// 256-weight super-blocks, split into sub-blocks of 16 (Q2_K, Q3_K, Q6_K) or 32 (Q4_K, Q5_K):
//   Q2_K { u8 scales[16], qs[64]; f16 d, dmin }                84 bytes
//       sub-block s = e / 16: w = (d * (scales[s] & 15)) * q - dmin * (scales[s] >> 4), q 2 bits
//   Q3_K { u8 hmask[32], qs[64], scales[12]; f16 d }           110 bytes
//       w = (d * (sc - 32)) * q, sc a 6-bit scale, q = 2 low bits - (high bit clear ? 4 : 0)
//   Q4_K { f16 d, dmin; u8 scales[12], qs[128] }               144 bytes
//       sub-block s = e / 32: w = (d * sc) * q - dmin * mn, q a nibble, 6-bit sc and mn
//   Q5_K { f16 d, dmin; u8 scales[12], qh[32], qs[128] }       176 bytes
//       as Q4_K with q = nibble | 16 * high bit
//   Q6_K { u8 ql[128], qh[64]; i8 scales[16]; f16 d }          210 bytes
//       sub-block s = e / 16: w = (d * scales[s]) * (q - 32), q 6 bits (a nibble and 2 high bits)
// Where each q's bits and each 6-bit scale sit is spelled out beside each expander in the .cpp.
#pragma once

#include <cstdint>

namespace pplug::detail {

// True when dequantize_ggml_row can expand `ggml_type` (Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K,
// Q5_K, Q6_K).
bool can_dequantize_ggml(uint32_t ggml_type);

// Expands `n` values (a multiple of the type's block size) stored as `ggml_type` at `bytes`
// (exactly ggml_type_bytes(type, n) bytes) into `out` (n floats). Throws InvalidArgument
// (pplug/error.h) for an unsupported type or an n that is not a whole number of blocks.
void dequantize_ggml_row(uint32_t ggml_type, const uint8_t* bytes, int64_t n, float* out);

}  // namespace pplug::detail
