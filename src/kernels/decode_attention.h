// Attention of one new query per sequence over a KV cache (the T = 1 decode step).
//
// Works on the cache's own storage (float32 or bfloat16), so a step neither copies the cached
// keys/values nor builds a mask tensor; grouped-query heads index their shared key/value head.
#pragma once

#include <cstdint>

#include "kernels/cpu_isa.h"

namespace pplug::kernels {

// Per-layer cache storage: keys and values (B, KV, capacity, head_dim), contiguous.
struct CacheView {
  const void* keys = nullptr;
  const void* values = nullptr;
  bool bf16 = false;  // false: float32
  int64_t kv_heads = 0;
  int64_t capacity = 0;
  int64_t head_dim = 0;
};

// For each row b < batch and head h < heads: out[b, h] = softmax(q[b, h] . K^T * scale) V over
// the cache slots s < length with key_mask[b * mask_stride + s] != 0. A row with no visible
// slot attends uniformly to all `length` slots (what a large finite mask value yields).
// q (B, heads * hd) with row stride ldq; out likewise with ldo; `scores` is scratch of
// batch * heads * length floats. Heads are split across the intra-op threads.
void decode_attention(const float* q, int64_t ldq, int64_t batch, int64_t heads,
                      const CacheView& cache, int64_t length, const int64_t* key_mask,
                      int64_t mask_stride, float scale, float* scores, float* out, int64_t ldo,
                      Isa isa = best_isa());

namespace detail {
// One (row, head) of decode_attention with AVX2 or AVX-512 (kernels/x86/); `keys` and `values`
// point at that head's (capacity, hd) slab, `scores` at `length` floats of scratch.
void one_head_avx2(const float* q, const void* keys, const void* values, bool bf16, int64_t hd,
                   int64_t length, const int64_t* mask, float scale, float* scores, float* out);
void one_head_avx512(const float* q, const void* keys, const void* values, bool bf16, int64_t hd,
                     int64_t length, const int64_t* mask, float scale, float* scores, float* out);
}  // namespace detail

}  // namespace pplug::kernels
