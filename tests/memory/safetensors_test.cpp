// The safetensors reader refuses every malformed file with a message naming file and tensor.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "pplug/error.h"
#include "pplug/safetensors.h"
#include "support/test_models.h"

namespace pplug {
namespace {

void write_raw(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// A file with the given JSON header and `data_bytes` zero bytes of data.
std::string handmade(const std::string& header, size_t data_bytes, uint64_t claimed_len = 0) {
  const uint64_t len = claimed_len ? claimed_len : header.size();
  std::string out(8, '\0');
  std::memcpy(out.data(), &len, 8);
  return out + header + std::string(data_bytes, '\0');
}

void expect_format_error(const std::string& bytes, const std::string& needle) {
  const std::string path = testing::temp_dir("st") + "/bad.safetensors";
  write_raw(path, bytes);
  try {
    SafetensorsFile file(path);
    FAIL() << "expected a FormatError containing '" << needle << "'";
  } catch (const FormatError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find(needle), std::string::npos) << what;
  }
}

TEST(Safetensors, RoundTripsDtypesShapesAndMetadata) {
  const std::string path = testing::temp_dir("st") + "/ok.safetensors";
  auto a = at::randn({3, 4});
  auto b = at::randn({5}).to(at::kBFloat16);
  auto c = at::randn({2, 2}).to(at::kHalf);
  auto d = at::arange(6, at::kLong).view({2, 3});
  save_safetensors(path, {{"a", a}, {"b", b}, {"c", c}, {"d", d}}, {{"k", "v"}});
  SafetensorsFile file(path);
  EXPECT_EQ(file.names(), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_TRUE(at::equal(file.get("a"), a));
  EXPECT_TRUE(at::equal(file.get("b"), b));
  EXPECT_TRUE(at::equal(file.get("c"), c));
  EXPECT_TRUE(at::equal(file.get("d"), d));
  EXPECT_EQ(file.info("b").dtype, "BF16");
  EXPECT_EQ(file.metadata().at("k"), "v");
  EXPECT_TRUE(at::equal(file.get("b", torch::kFloat32), b.to(at::kFloat)));
  EXPECT_THROW(file.get("a", torch::kFloat32, {4, 3}), FormatError);
  EXPECT_THROW(file.get("zzz"), FormatError);
}

TEST(Safetensors, RejectsTooShortFile) { expect_format_error("abc", "too short"); }

TEST(Safetensors, RejectsHeaderLengthLargerThanFile) {
  expect_format_error(handmade("{}", 0, 1ull << 40), "larger than the file");
}

TEST(Safetensors, RejectsInvalidJson) { expect_format_error(handmade("{not json", 0), "JSON"); }

TEST(Safetensors, RejectsOffsetsPastTheEnd) {
  expect_format_error(handmade(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8),
                      "past the end");
}

TEST(Safetensors, RejectsOverlappingTensors) {
  expect_format_error(handmade(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                               R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                               12),
                      "overlap");
}

TEST(Safetensors, RejectsUnknownDtype) {
  expect_format_error(handmade(R"({"w":{"dtype":"F7","shape":[1],"data_offsets":[0,1]}})", 1),
                      "unknown dtype 'F7'");
}

TEST(Safetensors, RejectsShapeThatDisagreesWithBytes) {
  expect_format_error(handmade(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8),
                      "tensor 'w'");
}

TEST(Safetensors, RejectsNegativeOrMalformedEntries) {
  expect_format_error(handmade(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4),
                      "shape");
  expect_format_error(handmade(R"({"w":{"dtype":"F32","shape":[1]}})", 4), "data_offsets");
  expect_format_error(handmade(R"([1,2])", 0), "not a JSON object");
}

// Dims beyond INT64_MAX (here beside a zero dim, so the element count is 0) and shapes whose
// byte size passes 2^64 are FormatErrors naming the tensor, never a wrapped size or a libtorch
// error about negative dims.
TEST(Safetensors, RejectsShapesThatOverflow) {
  expect_format_error(
      handmade(R"({"w":{"dtype":"F32","shape":[0,18446744073709551615],"data_offsets":[0,0]}})", 0),
      "tensor 'w' shape");
  expect_format_error(
      handmade(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}})", 0),
      "overflows");
  expect_format_error(
      handmade(R"({"w":{"dtype":"F32","shape":[0,4294967296,4294967296],"data_offsets":[0,0]}})",
               0),
      "overflows");
}

TEST(Safetensors, TruncatedRealFileIsRefused) {
  const std::string dir = testing::temp_dir("st");
  save_safetensors(dir + "/full.safetensors", {{"w", at::randn({64, 64})}});
  std::ifstream in(dir + "/full.safetensors", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  expect_format_error(bytes.substr(0, bytes.size() - 100), "truncated");
}

}  // namespace
}  // namespace pplug
