#include "kernels/decode_attention.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "kernels/portable_gemv.h"

namespace pplug::kernels {
namespace {

template <typename T>
void axpy_portable(float a, const T* v, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] += a * detail::widen(v[i]);
}

// One (row, head): scores over the visible slots, softmax, weighted sum of values.
template <typename T>
void one_head(const float* q, const T* keys, const T* values, int64_t hd, int64_t length,
              const int64_t* mask, float scale, float* scores, float* out, Isa isa) {
  if (isa >= Isa::kAvx512) {
    return detail::one_head_avx512(q, keys, values, std::is_same_v<T, uint16_t>, hd, length, mask,
                                   scale, scores, out);
  }
  if (isa >= Isa::kAvx2) {
    return detail::one_head_avx2(q, keys, values, std::is_same_v<T, uint16_t>, hd, length, mask,
                                 scale, scores, out);
  }
  float max_score = -std::numeric_limits<float>::infinity();
  int64_t visible = 0;
  for (int64_t s = 0; s < length; ++s) {
    if (mask[s] == 0) continue;
    scores[s] = detail::dot_portable(q, keys + s * hd, hd) * scale;
    max_score = std::max(max_score, scores[s]);
    ++visible;
  }
  std::fill(out, out + hd, 0.0f);
  if (visible == 0) {
    const float w = 1.0f / static_cast<float>(length);
    for (int64_t s = 0; s < length; ++s) axpy_portable(w, values + s * hd, hd, out);
    return;
  }
  double total = 0;
  for (int64_t s = 0; s < length; ++s) {
    if (mask[s] == 0) continue;
    scores[s] = std::exp(scores[s] - max_score);
    total += scores[s];
  }
  const auto inv_total = static_cast<float>(1.0 / total);
  for (int64_t s = 0; s < length; ++s) {
    if (mask[s] != 0) axpy_portable(scores[s] * inv_total, values + s * hd, hd, out);
  }
}

template <typename T>
void all_heads(const float* q, int64_t ldq, int64_t batch, int64_t heads, const CacheView& c,
               int64_t length, const int64_t* key_mask, int64_t mask_stride, float scale,
               float* scores, float* out, int64_t ldo, Isa isa) {
  const int64_t hd = c.head_dim, group = heads / c.kv_heads;
  const auto* keys = static_cast<const T*>(c.keys);
  const auto* values = static_cast<const T*>(c.values);
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, length * hd));
  at::parallel_for(0, batch * heads, grain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const int64_t b = i / heads, h = i % heads;
      const int64_t offset = ((b * c.kv_heads + h / group) * c.capacity) * hd;
      one_head(q + b * ldq + h * hd, keys + offset, values + offset, hd, length,
               key_mask + b * mask_stride, scale, scores + i * length, out + b * ldo + h * hd, isa);
    }
  });
}

}  // namespace

void decode_attention(const float* q, int64_t ldq, int64_t batch, int64_t heads,
                      const CacheView& cache, int64_t length, const int64_t* key_mask,
                      int64_t mask_stride, float scale, float* scores, float* out, int64_t ldo,
                      Isa isa) {
  isa = usable_isa(isa);
  if (cache.bf16) {
    all_heads<uint16_t>(q, ldq, batch, heads, cache, length, key_mask, mask_stride, scale, scores,
                        out, ldo, isa);
  } else {
    all_heads<float>(q, ldq, batch, heads, cache, length, key_mask, mask_stride, scale, scores, out,
                     ldo, isa);
  }
}

}  // namespace pplug::kernels
