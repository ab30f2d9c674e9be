// Small element-wise steps of a decode step on float32 rows (RMSNorm, RoPE, SwiGLU, stores).
// Each runs on one row of a few hundred to a few thousand values: cheap next to the weight
// products, but done in place on preallocated buffers so a decode step allocates nothing.
#pragma once

#include <cstdint>
#include <string>

namespace pplug::kernels {

// out = x / sqrt(mean(x^2) + eps) * weight, over `d` values (float32 throughout).
void rms_norm_row(const float* x, const float* weight, int64_t d, double eps, float* out);

// Rotates `heads` consecutive heads of `v` in place in the HF half-rotation layout: the pair
// (v[i], v[i + hd/2]) turns by the angle whose cosine and sine are cos[i] and sin[i]
// (`cos`, `sin`: the position's table row of hd values, the second half repeating the first).
void rope_row(float* v, int64_t heads, int64_t head_dim, const float* cos, const float* sin);

// row[i] += bias[i].
void add_row(const float* bias, int64_t n, float* row);

// out[i] = silu(gate[i]) * up[i]; out may alias gate.
void silu_mul(const float* gate, const float* up, int64_t n, float* out);

// The gated MLP's activation (LlamaConfig::hidden_act).
enum class GateActivation { kSilu, kGeluTanh, kGeluErf };
// "silu", "gelu_pytorch_tanh" or "gelu"; throws InvalidArgument for anything else.
GateActivation gate_activation(const std::string& hidden_act);
// out[i] = act(gate[i]) * up[i]; out may alias gate. GELU's tanh form is PyTorch's
// gelu(approximate="tanh"), the erf form gelu(approximate="none").
void gated_activation_mul(GateActivation act, const float* gate, const float* up, int64_t n,
                          float* out);

// Copies n float32 values to `dst` as float32 or (rounded to nearest even) bfloat16.
void store_row(const float* src, int64_t n, void* dst, bool dst_bf16);

// Widens n float32 or bfloat16 values to float32.
void load_row(const void* src, bool src_bf16, int64_t n, float* dst);

}  // namespace pplug::kernels
