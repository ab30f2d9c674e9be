// The expanders of llama.cpp's quantized GGUF block types (format/ggml_dequantize.h), checked
// bit for bit against llama.cpp's own dequantization (the fixture written by
// data/make_ggml_dequantize_fixture.py with gguf-py) and against a hand-built Q4_K block.
#include "format/ggml_dequantize.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "format/gguf_metadata.h"
#include "pplug/error.h"

namespace pplug::detail {
namespace {

std::vector<uint8_t> from_hex(const std::string& hex) {
  std::vector<uint8_t> out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  }
  return out;
}

uint32_t bits_of(float f) {
  uint32_t b = 0;
  std::memcpy(&b, &f, sizeof(b));
  return b;
}

struct FixtureEntry {
  std::string name;
  uint32_t type = 0;
  int64_t n = 0;
  std::vector<uint8_t> bytes;
  std::vector<float> expected;  // (n)
};

std::vector<FixtureEntry> read_fixture() {
  std::ifstream in(PPLUG_SOURCE_DIR "/tests/base/format/data/ggml_dequantize_fixture.json");
  EXPECT_TRUE(in.good()) << "ggml_dequantize_fixture.json not found";
  std::vector<FixtureEntry> entries;
  if (!in) return entries;
  const auto fixture = nlohmann::json::parse(in);
  for (const auto& t : fixture.at("types")) {
    FixtureEntry e;
    e.name = t.at("name").get<std::string>();
    e.type = t.at("type").get<uint32_t>();
    e.n = t.at("n").get<int64_t>();
    e.bytes = from_hex(t.at("bytes").get<std::string>());
    const auto raw = from_hex(t.at("expected_f32_le").get<std::string>());
    e.expected.resize(raw.size() / 4);
    for (size_t i = 0; i < e.expected.size(); ++i) {
      const uint32_t b = raw[4 * i] | (raw[4 * i + 1] << 8) | (raw[4 * i + 2] << 16) |
                         (static_cast<uint32_t>(raw[4 * i + 3]) << 24);
      std::memcpy(&e.expected[i], &b, sizeof(b));
    }
    entries.push_back(std::move(e));
  }
  return entries;
}

// Bitwise equality of `got` and `want`; names the first few values that differ.
void expect_same_bits(const std::vector<float>& got, const std::vector<float>& want,
                      const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  int reported = 0;
  for (size_t i = 0; i < got.size() && reported < 5; ++i) {
    if (bits_of(got[i]) != bits_of(want[i])) {
      ADD_FAILURE() << what << ": value " << i << " is " << got[i] << ", llama.cpp gives "
                    << want[i];
      ++reported;
    }
  }
}

TEST(GgmlDequantize, EqualsLlamaCppBitForBit) {
  const auto entries = read_fixture();
  std::set<std::string> seen;
  for (const auto& e : entries) {
    SCOPED_TRACE(e.name);
    seen.insert(e.name);
    EXPECT_EQ(ggml_type_name(e.type), e.name);
    ASSERT_TRUE(can_dequantize_ggml(e.type));
    ASSERT_EQ(e.bytes.size(), ggml_type_bytes(e.type, e.n));
    ASSERT_EQ(static_cast<int64_t>(e.expected.size()), e.n);
    std::vector<float> out(e.n, -12345.0f);
    dequantize_ggml_row(e.type, e.bytes.data(), e.n, out.data());
    expect_same_bits(out, e.expected, e.name);
  }
  EXPECT_EQ(seen, (std::set<std::string>{"Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K",
                                         "Q6_K"}));
}

// A row of several blocks is its blocks expanded in order (the fixture's K-quant rows are one
// block each): the fixture's bytes twice give its values twice.
TEST(GgmlDequantize, ExpandsEachBlockOfARow) {
  for (const auto& e : read_fixture()) {
    SCOPED_TRACE(e.name);
    std::vector<uint8_t> twice = e.bytes;
    twice.insert(twice.end(), e.bytes.begin(), e.bytes.end());
    std::vector<float> want = e.expected;
    want.insert(want.end(), e.expected.begin(), e.expected.end());
    std::vector<float> out(2 * e.n);
    dequantize_ggml_row(e.type, twice.data(), 2 * e.n, out.data());
    expect_same_bits(out, want, e.name + " twice");
  }
}

// One Q4_K block built by hand: { f16 d, f16 dmin, u8 scales[12], u8 qs[128] }. Weight
// e = 64 p + 32 k + r is nibble k of qs[32 p + r]; here qs[i] = (i % 16) | ((15 - i % 16) << 4).
TEST(GgmlDequantize, HandBuiltQ4K) {
  std::vector<uint8_t> block(144, 0);
  const auto set_half = [&](int offset, uint16_t h) {
    block[offset] = h & 0xff;
    block[offset + 1] = h >> 8;
  };
  set_half(0, 0x3c00);  // d = 1
  set_half(2, 0x0000);  // dmin = 0
  // Every 6-bit scale 1 and min 0: sub-blocks 0..3 in the low 6 bits of bytes 0..3 (scales)
  // and 4..7 (mins); sub-blocks 4..7 in the low (scale) and high (min) nibbles of bytes 8..11.
  for (int i = 0; i < 4; ++i) block[4 + i] = 1;
  for (int i = 8; i < 12; ++i) block[4 + i] = 1;
  for (int i = 0; i < 128; ++i)
    block[16 + i] = static_cast<uint8_t>((i % 16) | ((15 - i % 16) << 4));
  const auto nibble = [](int e) {
    const int r = e % 32;
    return (e / 32) % 2 == 0 ? r % 16 : 15 - r % 16;
  };

  std::vector<float> out(256);
  dequantize_ggml_row(static_cast<uint32_t>(GgmlType::kQ4_K), block.data(), 256, out.data());
  for (int e = 0; e < 256; ++e) EXPECT_EQ(out[e], static_cast<float>(nibble(e))) << "weight " << e;

  // d = 0.5, dmin = 0.25, and sub-block 5 gets scale 37 (0b10'0101) and min 50 (0b11'0010),
  // whose high 2 bits sit in the top bits of bytes 1 (scale, 5 - 4) and 5 (min, 5) and whose low
  // 4 bits in byte 9's nibbles; the other sub-blocks keep scale 1 and min 0.
  set_half(0, 0x3800);
  set_half(2, 0x3400);
  block[4 + 9] = 0x25;
  block[4 + 1] |= 2 << 6;
  block[4 + 5] |= 3 << 6;
  dequantize_ggml_row(static_cast<uint32_t>(GgmlType::kQ4_K), block.data(), 256, out.data());
  for (int e = 0; e < 256; ++e) {
    const bool five = e / 32 == 5;
    const auto q = static_cast<float>(nibble(e));
    const float want = 0.5f * (five ? 37.0f : 1.0f) * q - 0.25f * (five ? 50.0f : 0.0f);
    EXPECT_EQ(out[e], want) << "weight " << e;
  }
}

TEST(GgmlDequantize, RefusesOtherTypes) {
  const std::vector<uint8_t> bytes(1024, 0);
  std::vector<float> out(256);
  // F32, F16, Q4_0, Q8_0, Q8_1, Q8_K, BF16, an unknown id.
  for (uint32_t type : {0u, 1u, 2u, 8u, 9u, 15u, 30u, 1000u}) {
    SCOPED_TRACE(type);
    EXPECT_FALSE(can_dequantize_ggml(type));
    EXPECT_THROW(dequantize_ggml_row(type, bytes.data(), 32, out.data()), InvalidArgument);
  }
}

TEST(GgmlDequantize, RefusesPartialBlocks) {
  const std::vector<uint8_t> bytes(1024, 0);
  std::vector<float> out(512, 7.0f);
  const auto q4_k = static_cast<uint32_t>(GgmlType::kQ4_K);
  const auto q4_1 = static_cast<uint32_t>(GgmlType::kQ4_1);
  for (int64_t n : {1, 32, 128, 255, 257, -256}) {
    EXPECT_THROW(dequantize_ggml_row(q4_k, bytes.data(), n, out.data()), InvalidArgument) << n;
  }
  for (int64_t n : {1, 16, 33, -32}) {
    EXPECT_THROW(dequantize_ggml_row(q4_1, bytes.data(), n, out.data()), InvalidArgument) << n;
  }
  try {
    dequantize_ggml_row(q4_k, bytes.data(), 300, out.data());
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("300 values of Q4_K"), std::string::npos) << e.what();
  }
  // Nothing to expand is not an error, and writes nothing.
  dequantize_ggml_row(q4_k, bytes.data(), 0, out.data());
  EXPECT_EQ(out[0], 7.0f);
}

}  // namespace
}  // namespace pplug::detail
