// A weight matrix held in its stored type (kernels/weight_type.h): what the model's linear
// layers keep, so a Q8_0 model holds ~1.06 bytes per weight instead of 4.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

#include "kernels/linear_kernels.h"
#include "kernels/weight_type.h"

namespace pplug::memory {
class WeightArena;
}

namespace pplug::kernels {

struct PackedWeight {
  // Float types: (rows, cols) of that dtype. Q8_0 / Q4_0: uint8 (rows, row_bytes(type, cols)).
  at::Tensor data;
  WeightType type = WeightType::kF32;
  int64_t rows = 0;
  int64_t cols = 0;

  bool defined() const { return data.defined(); }
  WeightView view() const { return WeightView{data.data_ptr(), type, rows, cols}; }
  // Rows [start, start + count) without a copy.
  PackedWeight narrow_rows(int64_t start, int64_t count) const;
  // The weights as a (rows, cols) tensor of `dtype` (a view, not a copy, when already so).
  at::Tensor dense(at::ScalarType dtype) const;
};

// A contiguous 2-D float32/bfloat16/float16 tensor as a packed weight, without a copy.
PackedWeight wrap_weight(const at::Tensor& w);

// `w` (rows, cols), any float dtype, converted to `type`; the bytes come from `arena` when given.
PackedWeight pack_weight(const at::Tensor& w, WeightType type,
                         memory::WeightArena* arena = nullptr);

// Rows [n0, n1) of `w` as float32 into out (row-major, (n1 - n0) x cols), vectorised where the
// CPU allows.
void dequantize_rows(const WeightView& w, int64_t n0, int64_t n1, float* out, Isa isa = best_isa());

// float32 -> bfloat16, rounded to nearest even (float_to_bf16 per value), vectorised where the
// CPU allows.
void float_to_bf16(const float* in, int64_t count, uint16_t* out, Isa isa = best_isa());

namespace detail {
void dequantize_rows_avx2(const WeightView& w, int64_t n0, int64_t n1, float* out);
void float_to_bf16_avx512(const float* in, int64_t count, uint16_t* out);
}  // namespace detail

}  // namespace pplug::kernels
