#include "kernels/packed_weight.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "memory/weight_arena.h"
#include "pplug/error.h"

namespace pplug::kernels {
namespace {

at::ScalarType storage_dtype(WeightType type) {
  switch (type) {
    case WeightType::kF32:
      return at::kFloat;
    case WeightType::kBF16:
      return at::kBFloat16;
    case WeightType::kF16:
      return at::kHalf;
    default:
      return at::kByte;
  }
}

}  // namespace

PackedWeight PackedWeight::narrow_rows(int64_t start, int64_t count) const {
  return PackedWeight{data.narrow(0, start, count), type, count, cols};
}

at::Tensor PackedWeight::dense(at::ScalarType dtype) const {
  if (!is_block_quantized(type)) return data.to(dtype);
  auto out = at::empty({rows, cols}, at::kFloat);
  const WeightView v = view();
  at::parallel_for(0, rows, 64, [&](int64_t n0, int64_t n1) {
    dequantize_rows(v, n0, n1, out.data_ptr<float>() + n0 * cols);
  });
  return out.to(dtype);
}

PackedWeight wrap_weight(const at::Tensor& w) {
  const WeightView v = weight_view(w);
  return PackedWeight{w, v.type, v.rows, v.cols};
}

PackedWeight pack_weight(const at::Tensor& w, WeightType type, memory::WeightArena* arena) {
  if (w.dim() != 2) throw InvalidArgument("pack_weight: expected a 2-D tensor");
  const int64_t rows = w.size(0), cols = w.size(1);
  const int64_t bytes = row_bytes(type, cols);
  const bool quantized = is_block_quantized(type);
  const at::ScalarType dtype = storage_dtype(type);
  std::vector<int64_t> shape =
      quantized ? std::vector<int64_t>{rows, bytes} : std::vector<int64_t>{rows, cols};
  at::Tensor out = arena != nullptr ? arena->empty(shape, dtype) : at::empty(shape, dtype);
  if (!quantized) {
    out.copy_(w);
  } else {
    const auto src = w.detach().to(at::kFloat).contiguous();
    const float* in = src.data_ptr<float>();
    auto* dst = static_cast<uint8_t*>(out.data_ptr());
    at::parallel_for(0, rows, 16, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) quantize_row(in + r * cols, cols, type, dst + r * bytes);
    });
  }
  return PackedWeight{out, type, rows, cols};
}

void dequantize_rows(const WeightView& w, int64_t n0, int64_t n1, float* out, Isa isa) {
  if (usable_isa(isa) >= Isa::kAvx2 && w.type != WeightType::kF32) {
    return detail::dequantize_rows_avx2(w, n0, n1, out);
  }
  const int64_t bytes = row_bytes(w.type, w.cols);
  const auto* base = static_cast<const uint8_t*>(w.data);
  for (int64_t n = n0; n < n1; ++n) {
    dequantize_row(base + n * bytes, w.cols, w.type, out + (n - n0) * w.cols);
  }
}

void float_to_bf16(const float* in, int64_t count, uint16_t* out, Isa isa) {
  if (usable_isa(isa) >= Isa::kAvx512Bf16) return detail::float_to_bf16_avx512(in, count, out);
  for (int64_t i = 0; i < count; ++i) out[i] = float_to_bf16(in[i]);
}

}  // namespace pplug::kernels
