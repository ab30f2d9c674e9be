// The libtorch-free parsers of src/format/ that the loaders call before building tensors:
// safetensors headers and indexes, llama2.c headers, plug-in manifests, user embedding records.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>
#include <string>

#include "format/json_fields.h"
#include "format/llama2c_header.h"
#include "format/plugin_manifest.h"
#include "format/safetensors_header.h"
#include "format/user_embedding_record.h"
#include "pplug/error.h"
#include "pplug/llama_config.h"

namespace pplug::detail {
namespace {

// Safetensors bytes: the length field, `header` as is, then `data_bytes` zero bytes.
std::string safetensors(const std::string& header, size_t data_bytes) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + std::string(data_bytes, '\0');
}

SafetensorsHeader parse(const std::string& bytes) {
  return parse_safetensors_header(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                                  "mem");
}

// The message of the FormatError `f` throws ("" when it throws none).
template <class F>
std::string format_error(F&& f) {
  try {
    f();
  } catch (const FormatError& e) {
    return e.what();
  }
  return "";
}

TEST(SafetensorsHeader, DescribesTensorsInDataOrder) {
  const auto h = parse(safetensors(
      R"({"b":{"dtype":"BF16","shape":[2],"data_offsets":[32,36]},)"
      R"("a":{"dtype":"F32","shape":[4,2],"data_offsets":[0,32]},"__metadata__":{"k":"v"}})",
      36));
  ASSERT_EQ(h.order, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(h.tensors.at("a").shape, (std::vector<int64_t>{4, 2}));
  EXPECT_EQ(h.tensors.at("b").begin, 32u);
  EXPECT_EQ(h.data_size, 36u);
  EXPECT_EQ(h.metadata.at("k"), "v");
}

TEST(SafetensorsHeader, RefusesLiesBeforeAllocating) {
  EXPECT_NE(format_error([] { parse("1234567"); }).find("too short for a header length"),
            std::string::npos);
  std::string huge(8, '\xff');
  EXPECT_NE(format_error([&] { parse(huge + "{}"); }).find("is larger than the file"),
            std::string::npos);
  // Dims whose product wraps round to the byte count must not pass.
  EXPECT_NE(format_error([] {
              parse(safetensors(R"({"t":{"dtype":"F32","shape":[4611686018427387904,4],)"
                                R"("data_offsets":[0,0]}})",
                                0));
            }).find("overflows"),
            std::string::npos);
  EXPECT_NE(format_error([] {
              parse(safetensors(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                                R"("b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})",
                                6));
            }).find("overlap"),
            std::string::npos);
  // A number past double's range is nlohmann's out_of_range, not a parse_error.
  EXPECT_NE(format_error([] {
              parse(safetensors(R"({"a":1e999})", 0));
            }).find("header is not valid JSON"),
            std::string::npos);
  EXPECT_NE(format_error([] {
              parse(safetensors(R"({"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}})", 1));
            }).find("unknown dtype 'Q4'"),
            std::string::npos);
}

TEST(SafetensorsIndex, GroupsTensorsByShard) {
  const auto by_file = parse_safetensors_index(
      R"({"weight_map":{"a":"one.safetensors","b":"two.safetensors","c":"one.safetensors"}})",
      "index");
  EXPECT_EQ(by_file.at("one.safetensors"), (std::set<std::string>{"a", "c"}));
  EXPECT_NE(format_error([] {
              parse_safetensors_index(R"({"weight_map":{"a":"../x"}})", "index");
            }).find("must be a plain file name"),
            std::string::npos);
  EXPECT_NE(format_error([] {
              parse_safetensors_index("[1]", "index");
            }).find("missing object field 'weight_map'"),
            std::string::npos);
}

std::string llama2c_prefix(std::initializer_list<int32_t> fields) {
  std::string out(28, '\0');
  std::memcpy(out.data(), std::data(fields), 28);
  return out;
}

TEST(Llama2cHeader, AcceptsTheExactSizeOnly) {
  // stories260K: dim 64, hidden 172, 5 layers, 8 heads, 4 kv heads, vocab 512, seq 512.
  const std::string h = llama2c_prefix({64, 172, 5, 8, 4, 512, 512});
  const Llama2cHeader parsed = parse_llama2c_header(h, 1056540, "s.bin");
  EXPECT_EQ(parsed.floats, (1056540 - 28) / 4);
  EXPECT_TRUE(parsed.config.tie_word_embeddings);
  EXPECT_TRUE(looks_like_llama2c(h, 1056540));
  EXPECT_FALSE(looks_like_llama2c(h, 1056544));
  EXPECT_NE(
      format_error([&] { parse_llama2c_header(h, 1056544, "s.bin"); }).find("(trailing bytes)"),
      std::string::npos);
  EXPECT_NE(format_error([&] {
              parse_llama2c_header(h.substr(0, 10), 10, "s.bin");
            }).find("too short for the 28-byte llama2.c header"),
            std::string::npos);
}

TEST(Llama2cHeader, SizesPast2To63AreAFormatError) {
  // Every field plausible (< 2^24), but 3 x L x hidden x dim x 4 bytes is far past 2^63.
  const std::string h = llama2c_prefix({1 << 24, 1 << 24, 1 << 24, 1 << 10, 1 << 10, 1, 1});
  EXPECT_NE(format_error([&] { parse_llama2c_header(h, 156, "big.bin"); }).find("overflows"),
            std::string::npos);
  EXPECT_FALSE(looks_like_llama2c(h, 156));
}

nlohmann::json manifest() {
  PluginConfig c;
  c.task = "LaMP_2";
  c.encoder_dim = 16;
  c.llm_dim = 8;
  return {{"format", "pplug-plugin"},
          {"format_version", 4},
          {"config", plugin_config_to_json(c)},
          {"soft_token_scale", 1.0},
          {"plugin_fingerprint", "f"},
          {"llm", {{"fingerprint", "l"}, {"hidden_size", 8}, {"vocab_size", 32}}},
          {"encoder", {{"kind", "bert"}, {"fingerprint", "e"}, {"dim", 16}, {"spec", "bge"}}}};
}

TEST(PluginManifest, ParsesWhatSaveWrites) {
  const PluginManifest m = parse_plugin_manifest(manifest().dump(), "manifest.json");
  EXPECT_EQ(m.config.task, "LaMP_2");
  EXPECT_EQ(m.llm_fingerprint, "l");
  EXPECT_EQ(m.llm_hidden_size.value, 8);
  EXPECT_EQ(m.llm_num_hidden_layers.text, "null");
  EXPECT_EQ(m.encoder_spec, "bge");
  EXPECT_EQ(parse_manifest_encoder_spec(manifest().dump(), "manifest.json"), "bge");
}

// Found by fuzz_plugin_manifest's first design: json::value() threw nlohmann's type_error for a
// member of the wrong type, and get<int>() wrapped integers past 32 bits round to valid values.
TEST(PluginManifest, WrongTypesAndHugeIntegersAreFormatErrors) {
  auto refused = [](nlohmann::json m) {
    return format_error([&] { parse_plugin_manifest(m.dump(), "manifest.json"); });
  };
  nlohmann::json m = manifest();
  m["format"] = 7;
  EXPECT_NE(refused(m).find("not a pplug plug-in manifest"), std::string::npos);
  m = manifest();
  m["llm"]["fingerprint"] = 12;
  EXPECT_NE(refused(m).find("field 'llm.fingerprint' must be a string, got 12"), std::string::npos);
  m = manifest();
  m["encoder"]["kind"] = {1};
  EXPECT_NE(refused(m).find("field 'encoder.kind' must be a string"), std::string::npos);
  m = manifest();
  m["config"]["top_k"] = 4294967297;  // 2^32 + 1: was read as top_k 1
  EXPECT_NE(refused(m).find("field 'config.top_k' must be a 32-bit integer, got 4294967297"),
            std::string::npos);
  m = manifest();
  m["format_version"] = 4294967300;  // was read as 4
  EXPECT_NE(refused(m).find("unsupported format_version 4294967300"), std::string::npos);
  m = manifest();
  m["config"]["llm_dim"] = 18446744073709551615u;
  EXPECT_NE(refused(m).find("field 'config.llm_dim' must be a 64-bit integer"), std::string::npos);
  m = manifest();
  m["extra"] = 1;
  EXPECT_NE(refused(m).find("unknown top-level field 'extra'"), std::string::npos);
}

// Found by hand beyond libFuzzer's 4 KB inputs: a field nested a million levels deep overflowed
// the stack in nlohmann's recursive dump() while the error message was being written.
TEST(PluginManifest, DeeplyNestedFieldIsAFormatErrorNotAStackOverflow) {
  const std::string deep = std::string(1000000, '[') + std::string(1000000, ']');
  std::string text = manifest().dump();
  const std::string task = R"("task":"LaMP_2")";
  text.replace(text.find(task), task.size(), R"("task":)" + deep);
  EXPECT_NE(format_error([&] {
              parse_plugin_manifest(text, "manifest.json");
            }).find("field 'config.task' must be a string, got a JSON array of 1 elements"),
            std::string::npos);
  EXPECT_EQ(json_shown(nlohmann::json::parse("[[1, 2], {\"a\": null}]")), "[[1,2],{\"a\":null}]");
  EXPECT_EQ(json_shown(std::string(300, 'x')).size(), 200u);
}

TEST(ConfigJson, DeeplyNestedFieldIsAFormatErrorNotAStackOverflow) {
  const std::string path = ::testing::TempDir() + "/deep_config.json";
  std::ofstream(path) << R"({"hidden_size":)" + std::string(1000000, '[') +
                             std::string(1000000, ']') + "}";
  EXPECT_NE(format_error([&] {
              load_llama_config(path);
            }).find("field 'hidden_size' must be an integer, got a JSON array of 1 elements"),
            std::string::npos);
}

std::string user_record(const std::string& tensors, size_t data, const std::string& ids,
                        const std::string& version = "2") {
  const std::string meta = R"("__metadata__":{"format":"pplug-user-embedding","format_version":")" +
                           version + R"(","item_ids":)" + nlohmann::json(ids).dump() +
                           R"(,"encoder_fingerprint":"e","plugin_fingerprint":"p"})";
  return safetensors("{" + meta + (tensors.empty() ? "" : "," + tensors) + "}", data);
}

TEST(UserEmbeddingRecord, ChecksIdsDtypesAndRows) {
  const auto r = parse_user_embedding_record(
      user_record(R"("item_vectors":{"dtype":"I8","shape":[2,4],"data_offsets":[0,8]},)"
                  R"("item_vectors_scale":{"dtype":"F32","shape":[2],"data_offsets":[8,16]})",
                  16, R"(["a","b"])"),
      "u");
  EXPECT_EQ(r.item_ids, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(r.compact);
  EXPECT_FALSE(r.has_projections);
  auto refused = [](const std::string& bytes) {
    return format_error([&] { parse_user_embedding_record(bytes, "u"); });
  };
  EXPECT_NE(
      refused(user_record(R"("item_vectors":{"dtype":"F32","shape":[3,1],"data_offsets":[0,12]})",
                          12, R"(["a","b"])"))
          .find("item_vectors must have 2 rows (one per item id), it has shape [3, 1]"),
      std::string::npos);
  EXPECT_NE(
      refused(user_record(R"("item_vectors":{"dtype":"I8","shape":[2,1],"data_offsets":[0,2]})", 2,
                          R"(["a","b"])"))
          .find("item_vectors is int8 but item_vectors_scale is missing"),
      std::string::npos);
  EXPECT_NE(refused(user_record("", 0, R"(["a","a"])")).find("item id 'a' appears twice"),
            std::string::npos);
  EXPECT_NE(refused(user_record("", 0, R"([1])")).find("not a JSON string array"),
            std::string::npos);
  EXPECT_NE(refused(user_record("", 0, "[\"a\"]", "1")).find("missing item_vectors"),
            std::string::npos);
}

}  // namespace
}  // namespace pplug::detail
