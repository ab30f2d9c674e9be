// Weight types: the Q8_0 / Q4_0 byte layout against llama.cpp's own quantizer, and every
// kernel (decode GEMV, dequantization, the panel GEMM and its backward) at every instruction
// set level this CPU runs, against ATen in double precision on the dequantized weights.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/autograd.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>

#include "kernels/dense_linear.h"
#include "kernels/linear_kernels.h"
#include "kernels/packed_weight.h"
#include "kernels/weight_type.h"
#include "pplug/error.h"
#include "support/kernel_levels.h"

namespace pplug {
namespace {

using kernels::Isa;
using kernels::WeightType;

std::vector<uint8_t> from_hex(const std::string& hex) {
  std::vector<uint8_t> out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) out[i] = std::stoi(hex.substr(2 * i, 2), nullptr, 16);
  return out;
}

std::string to_hex(const uint8_t* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

// tests/kernels/data/ggml_quant_fixture.json: a (5, 96) float32 tensor and its Q8_0 / Q4_0
// bytes from llama.cpp (commit in the file): ggml's C quantizer (*_ggml_c_hex, what
// llama-quantize writes) and its Python package's reference (*_hex), which differ in one Q4_0
// nibble where the Python one rounds as if fused-multiply-added (see the file's note).
nlohmann::json fixture() {
  std::ifstream in(PPLUG_TEST_DATA "/ggml_quant_fixture.json");
  return nlohmann::json::parse(in);
}

TEST(WeightTypes, QuantizedBytesMatchLlamaCpp) {
  const auto f = fixture();
  const auto input = from_hex(f["float32_hex"].get<std::string>());
  const int64_t rows = f["shape"][0], cols = f["shape"][1];
  ASSERT_EQ(input.size(), static_cast<size_t>(rows * cols * 4));
  const auto* x = reinterpret_cast<const float*>(input.data());
  for (const auto& [type, key] : {std::pair{WeightType::kQ8_0, "q8_0_ggml_c_hex"},
                                  std::pair{WeightType::kQ4_0, "q4_0_ggml_c_hex"}}) {
    const int64_t bytes = kernels::row_bytes(type, cols);
    std::vector<uint8_t> out(rows * bytes);
    for (int64_t r = 0; r < rows; ++r) {
      kernels::quantize_row(x + r * cols, cols, type, out.data() + r * bytes);
    }
    EXPECT_EQ(to_hex(out.data(), out.size()), f[key].get<std::string>()) << key;
  }
}

TEST(WeightTypes, DequantizedValuesMatchLlamaCpp) {
  const auto f = fixture();
  const int64_t rows = f["shape"][0], cols = f["shape"][1];
  for (const auto& [type, name] :
       {std::pair{WeightType::kQ8_0, "q8_0"}, std::pair{WeightType::kQ4_0, "q4_0"}}) {
    const auto bytes = from_hex(f[std::string(name) + "_hex"].get<std::string>());
    const auto expected =
        from_hex(f[std::string(name) + "_dequant_float32_hex"].get<std::string>());
    const kernels::WeightView view{bytes.data(), type, rows, cols};
    for (const Isa isa : testing::runnable_isas()) {
      std::vector<float> out(rows * cols);
      kernels::dequantize_rows(view, 0, rows, out.data(), isa);
      EXPECT_EQ(std::memcmp(out.data(), expected.data(), expected.size()), 0)
          << name << " " << kernels::isa_name(isa);
    }
  }
}

TEST(WeightTypes, Q8_0RoundsHalvesAwayFromZeroAsRoundf) {
  // max |w| = 127 gives the scale 1, so the quantized values are the rounded inputs themselves.
  std::vector<float> block(32, 0.0f);
  const float inputs[] = {127.0f, 2.5f, -2.5f, 0.5f, -0.5f, 3.4999998f, -3.4999998f, 126.5f, 1.5f};
  std::copy(std::begin(inputs), std::end(inputs), block.begin());
  uint8_t out[kernels::kQ8_0BlockBytes];
  kernels::quantize_row(block.data(), 32, WeightType::kQ8_0, out);
  for (size_t i = 0; i < std::size(inputs); ++i) {
    EXPECT_EQ(static_cast<int8_t>(out[2 + i]), static_cast<int>(std::roundf(inputs[i])))
        << inputs[i];
  }
}

TEST(WeightTypes, HalfAndBfloatConversionsRoundToNearestEven) {
  EXPECT_EQ(kernels::float_to_half(1.0f), 0x3C00);
  EXPECT_EQ(kernels::float_to_half(65504.0f), 0x7BFF);
  EXPECT_EQ(kernels::float_to_half(1.0f + 1.0f / 2048), 0x3C00);  // tie -> even
  EXPECT_EQ(kernels::float_to_half(1.0f + 3.0f / 2048), 0x3C02);  // tie -> even (up)
  EXPECT_EQ(kernels::float_to_bf16(1.0f + 1.0f / 256), 0x3F80);   // tie -> even
  EXPECT_EQ(kernels::float_to_bf16(1.0f + 3.0f / 256), 0x3F82);
  EXPECT_FLOAT_EQ(kernels::half_to_float(0xC000), -2.0f);
  EXPECT_FLOAT_EQ(kernels::bf16_to_float(0x4049), 3.140625f);
}

TEST(WeightTypes, RowsOfQuantizedTypesMustHoldWholeBlocks) {
  EXPECT_THROW(kernels::row_bytes(WeightType::kQ8_0, 33), InvalidArgument);
  EXPECT_EQ(kernels::row_bytes(WeightType::kQ8_0, 64), 68);
  EXPECT_EQ(kernels::row_bytes(WeightType::kQ4_0, 64), 36);
  EXPECT_EQ(kernels::storage_type_for(WeightType::kQ8_0, 172), WeightType::kF16);
  EXPECT_EQ(kernels::storage_type_for(WeightType::kQ4_0, 64), WeightType::kQ4_0);
}

const WeightType kAllTypes[] = {WeightType::kF32, WeightType::kBF16, WeightType::kF16,
                                WeightType::kQ8_0, WeightType::kQ4_0};

// The largest error the kernels may make on x (M, K) . w^T: float32 accumulation everywhere,
// plus, for the block-quantized types on x86, the rounding of x to int8 per block of 32 (half a
// step of max|x_block| / 127 per element, times |w|).
at::Tensor error_bound(const at::Tensor& x, const at::Tensor& w_dense, WeightType type, Isa isa) {
  const int64_t k = x.size(1);
  auto bound = at::full({x.size(0), w_dense.size(0)}, 1e-5 * k + 1e-5, at::kDouble);
  bound += 1e-6 * at::matmul(x.abs().to(at::kDouble), w_dense.abs().to(at::kDouble).t());
  if (kernels::is_block_quantized(type) && isa >= Isa::kAvx2) {
    auto amax = std::get<0>(x.abs().view({x.size(0), k / 32, 32}).max(-1)).to(at::kDouble);
    auto wsum = w_dense.abs().view({w_dense.size(0), k / 32, 32}).sum(-1).to(at::kDouble);
    bound += at::matmul(amax, wsum.t()) * (0.5 / 127) * 1.001;
  }
  return bound;
}

TEST(WeightTypes, DecodeKernelsMatchDoublePrecisionOnOddShapes) {
  struct Shape {
    int64_t m, n, k;
  };
  // K multiples of 32 (the quantized types need them) with odd block counts; odd M and N.
  const Shape shapes[] = {{1, 37, 32}, {3, 19, 96}, {5, 33, 160}, {1, 1, 64}, {7, 9, 288}};
  for (const WeightType type : kAllTypes) {
    for (const Isa isa : testing::runnable_isas()) {
      for (const auto& s : shapes) {
        const auto x = at::randn({s.m, s.k});
        const auto w = kernels::pack_weight(at::randn({s.n, s.k}), type);
        const auto w_dense = w.dense(at::kFloat);
        const auto expected = at::linear(x.to(at::kDouble), w_dense.to(at::kDouble));
        const auto got = kernels::linear(x, w.view(), isa);
        const auto excess =
            (got.to(at::kDouble) - expected).abs() - error_bound(x, w_dense, type, isa);
        EXPECT_LE(excess.max().item<double>(), 0.0)
            << kernels::weight_type_name(type) << " " << kernels::isa_name(isa) << " " << s.m << "x"
            << s.n << "x" << s.k;
      }
    }
  }
}

TEST(WeightTypes, FloatTypesHandleAnyRowLength) {
  for (const WeightType type : {WeightType::kF32, WeightType::kBF16, WeightType::kF16}) {
    for (const Isa isa : testing::runnable_isas()) {
      for (const int64_t k : {1, 7, 53, 257}) {
        const auto x = at::randn({2, k});
        const auto w = kernels::pack_weight(at::randn({11, k}), type);
        const auto expected = at::linear(x.to(at::kDouble), w.dense(at::kDouble));
        const auto err = (kernels::linear(x, w.view(), isa).to(at::kDouble) - expected).abs().max();
        EXPECT_LT(err.item<double>(), 1e-5 * k + 1e-5)
            << kernels::weight_type_name(type) << " " << kernels::isa_name(isa) << " k " << k;
      }
    }
  }
}

TEST(WeightTypes, DequantizationIsTheSameAtEveryLevel) {
  for (const WeightType type : kAllTypes) {
    const auto w = kernels::pack_weight(at::randn({13, 96}), type);
    std::vector<float> reference(13 * 96);
    kernels::dequantize_rows(w.view(), 0, 13, reference.data(), Isa::kPortable);
    for (const Isa isa : testing::runnable_isas()) {
      std::vector<float> out(13 * 96);
      kernels::dequantize_rows(w.view(), 0, 13, out.data(), isa);
      EXPECT_EQ(std::memcmp(out.data(), reference.data(), out.size() * 4), 0)
          << kernels::weight_type_name(type) << " " << kernels::isa_name(isa);
    }
  }
}

// The vectorised conversion rounds as float_to_bf16 does, value by value, on any length (the
// masked tail) and at the ties (which go to even). Denormals are left out: vcvtneps2bf16 flushes
// them to zero, the scalar rounding keeps them.
TEST(WeightTypes, FloatToBf16IsTheSameAtEveryLevel) {
  for (const int64_t count : {1, 15, 16, 17, 31, 32, 33, 100}) {
    auto values = at::randn({count}) * 100;
    auto* v = values.data_ptr<float>();
    v[0] = 1.0f + std::ldexp(1.0f, -8);                     // a tie: rounds down to even
    if (count > 1) v[1] = 1.0f + 3 * std::ldexp(1.0f, -8);  // a tie: rounds up to even
    if (count > 2) v[2] = std::numeric_limits<float>::infinity();
    if (count > 3) v[3] = -std::numeric_limits<float>::max();
    std::vector<uint16_t> reference(count);
    for (int64_t i = 0; i < count; ++i) reference[i] = kernels::float_to_bf16(v[i]);
    for (const Isa isa : testing::runnable_isas()) {
      std::vector<uint16_t> out(count + 1, 0xABCD);
      kernels::float_to_bf16(v, count, out.data(), isa);
      EXPECT_EQ(std::memcmp(out.data(), reference.data(), count * 2), 0)
          << kernels::isa_name(isa) << " count " << count;
      EXPECT_EQ(out[count], 0xABCD) << "wrote past the end at " << kernels::isa_name(isa);
    }
  }
}

TEST(WeightTypes, DenseLinearAndItsGradientMatchTheDequantizedWeights) {
  for (const WeightType type : kAllTypes) {
    for (const int64_t m : {2, 9, 70}) {  // skinny-kernel rows and panel GEMM rows
      const auto w = kernels::pack_weight(at::randn({300, 96}), type);
      const auto w_dense = w.dense(at::kFloat);
      auto x = at::randn({m, 96}).requires_grad_(true);
      auto x_ref = x.detach().clone().requires_grad_(true);
      auto y = kernels::dense_linear(x.view({1, m, 96}), w);
      auto y_ref = at::linear(x_ref, w_dense);
      ASSERT_EQ(y.sizes(), (std::vector<int64_t>{1, m, 300}));
      const auto bound = error_bound(x.detach(), w_dense, type, kernels::best_isa());
      EXPECT_LE(((y.view({m, 300}) - y_ref).abs().to(at::kDouble) - bound).max().item<double>(),
                1e-4)
          << kernels::weight_type_name(type) << " m " << m;
      const auto dy = at::randn({m, 300});
      y.view({m, 300}).backward(dy);
      y_ref.backward(dy);
      EXPECT_TRUE(at::allclose(x.grad(), x_ref.grad(), 1e-4, 1e-3))
          << kernels::weight_type_name(type) << " m " << m << " max diff "
          << (x.grad() - x_ref.grad()).abs().max().item<double>();
    }
  }
}

// Inference (no gradient) may take another path than training: on AVX512_BF16 CPUs, bf16
// weights go to oneDNN's bf16 GEMM (activations and result rounded to bf16), and Q8_0 / Q4_0
// weights, past the skinny rows, to bf16 panels (activations and weights rounded): a relative
// 2^-9 each, so 2^-8 of sum |x||w| bounds both.
TEST(WeightTypes, DenseLinearWithoutGradientStaysWithinItsRounding) {
  at::NoGradGuard no_grad;
  for (const WeightType type : kAllTypes) {
    for (const int64_t m : {3, 70}) {
      const auto w = kernels::pack_weight(at::randn({300, 96}), type);
      const auto w_dense = w.dense(at::kFloat);
      const auto x = at::randn({m, 96});
      const auto y = kernels::dense_linear(x, w);
      const auto expected = at::linear(x.to(at::kDouble), w_dense.to(at::kDouble));
      auto bound = error_bound(x, w_dense, type, kernels::best_isa());
      const bool bf16_path = type == WeightType::kBF16 || kernels::is_block_quantized(type);
      if (bf16_path && kernels::best_isa() >= Isa::kAvx512Bf16) {
        bound += std::ldexp(1.0, -8) *
                 at::matmul(x.abs().to(at::kDouble), w_dense.abs().to(at::kDouble).t());
      }
      EXPECT_LE(((y.to(at::kDouble) - expected).abs() - bound).max().item<double>(), 0.0)
          << kernels::weight_type_name(type) << " m " << m;
    }
  }
}

}  // namespace
}  // namespace pplug
