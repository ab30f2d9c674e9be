#include "kernels/decode_ops.h"

#include <c10/util/BFloat16.h>

#include <cmath>

#include "pplug/error.h"

namespace pplug::kernels {

void rms_norm_row(const float* x, const float* weight, int64_t d, double eps, float* out) {
  // Double accumulation: the row is short, and the sum should not depend on its length.
  double sum_sq = 0;
  for (int64_t i = 0; i < d; ++i) sum_sq += static_cast<double>(x[i]) * x[i];
  const auto scale = static_cast<float>(1.0 / std::sqrt(sum_sq / static_cast<double>(d) + eps));
  for (int64_t i = 0; i < d; ++i) out[i] = x[i] * scale * weight[i];
}

void rope_row(float* v, int64_t heads, int64_t head_dim, const float* cos, const float* sin) {
  const int64_t half = head_dim / 2;
  for (int64_t h = 0; h < heads; ++h) {
    float* a = v + h * head_dim;
    float* b = a + half;
    for (int64_t i = 0; i < half; ++i) {
      const float x1 = a[i], x2 = b[i];
      a[i] = x1 * cos[i] - x2 * sin[i];
      b[i] = x2 * cos[i + half] + x1 * sin[i + half];
    }
  }
}

void add_row(const float* bias, int64_t n, float* row) {
  for (int64_t i = 0; i < n; ++i) row[i] += bias[i];
}

void silu_mul(const float* gate, const float* up, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    out[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

GateActivation gate_activation(const std::string& hidden_act) {
  if (hidden_act == "silu") return GateActivation::kSilu;
  if (hidden_act == "gelu_pytorch_tanh") return GateActivation::kGeluTanh;
  if (hidden_act == "gelu") return GateActivation::kGeluErf;
  throw InvalidArgument("unknown hidden_act '" + hidden_act + "'");
}

void gated_activation_mul(GateActivation act, const float* gate, const float* up, int64_t n,
                          float* out) {
  switch (act) {
    case GateActivation::kSilu:
      silu_mul(gate, up, n, out);
      return;
    case GateActivation::kGeluTanh: {
      constexpr float kSqrt2OverPi = 0.7978845608028654f;
      for (int64_t i = 0; i < n; ++i) {
        const float g = gate[i];
        const float inner = kSqrt2OverPi * (g + 0.044715f * g * g * g);
        out[i] = 0.5f * g * (1.0f + std::tanh(inner)) * up[i];
      }
      return;
    }
    case GateActivation::kGeluErf: {
      constexpr float kInvSqrt2 = 0.7071067811865476f;
      for (int64_t i = 0; i < n; ++i) {
        const float g = gate[i];
        out[i] = 0.5f * g * (1.0f + std::erf(g * kInvSqrt2)) * up[i];
      }
      return;
    }
  }
}

void store_row(const float* src, int64_t n, void* dst, bool dst_bf16) {
  if (dst_bf16) {
    auto* out = static_cast<c10::BFloat16*>(dst);
    for (int64_t i = 0; i < n; ++i) out[i] = c10::BFloat16(src[i]);
  } else {
    auto* out = static_cast<float*>(dst);
    for (int64_t i = 0; i < n; ++i) out[i] = src[i];
  }
}

void load_row(const void* src, bool src_bf16, int64_t n, float* dst) {
  if (src_bf16) {
    const auto* in = static_cast<const c10::BFloat16*>(src);
    for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<float>(in[i]);
  } else {
    const auto* in = static_cast<const float*>(src);
    for (int64_t i = 0; i < n; ++i) dst[i] = in[i];
  }
}

}  // namespace pplug::kernels
