// Model folders and checkpoints: loading paths and the errors for broken files.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "pplug/error.h"
#include "pplug/model_io.h"
#include "pplug/safetensors.h"
#include "support/test_models.h"

namespace pplug {
namespace {

namespace fs = std::filesystem;

template <typename E>
void expect_error(const std::function<void()>& fn, const std::vector<std::string>& needles) {
  try {
    fn();
    FAIL() << "expected an exception";
  } catch (const E& e) {
    for (const auto& n : needles)
      EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what();
  }
}

TEST(ModelFiles, HfAndLlama2cLayoutsOfTheSameWeightsAgree) {
  const auto raw = random_model(testing::tiny_config(), 7);
  const std::string dir = testing::temp_dir("layouts");
  save_hf_model(raw, dir + "/hf");
  save_llama2c(raw, dir + "/model.bin");
  ModelLoadOptions no_tok;
  no_tok.load_tokenizer = false;
  const auto hf = load_model(dir + "/hf", no_tok);
  const auto bin = load_model(dir + "/model.bin", no_tok);
  c10::InferenceMode guard;
  auto ids = at::tensor(std::vector<int64_t>{1, 2, 3, 4, 5}, at::kLong).unsqueeze(0);
  auto a = hf.model->forward(hf.model->embed(ids), {}).logits;
  auto b = bin.model->forward(bin.model->embed(ids), {}).logits;
  EXPECT_TRUE(at::allclose(a, b, 1e-6, 1e-6));
}

TEST(ModelFiles, ShardedSafetensorsLoad) {
  const auto raw = random_model(testing::tiny_config(), 8);
  const std::string dir = testing::temp_dir("sharded");
  save_llama_config(raw.config, dir + "/config.json");
  const size_t half = raw.weights.size() / 2;
  std::vector<std::pair<std::string, torch::Tensor>> a(raw.weights.begin(),
                                                       raw.weights.begin() + half);
  std::vector<std::pair<std::string, torch::Tensor>> b(raw.weights.begin() + half,
                                                       raw.weights.end());
  // Store the second shard in bf16 to exercise dtype conversion.
  for (auto& [name, t] : b) t = t.to(at::kBFloat16);
  save_safetensors(dir + "/part-1.safetensors", a);
  save_safetensors(dir + "/part-2.safetensors", b);
  std::ofstream index(dir + "/model.safetensors.index.json");
  index << "{\"weight_map\": {";
  for (size_t i = 0; i < raw.weights.size(); ++i) {
    index << (i ? "," : "") << "\"" << raw.weights[i].first << "\": \""
          << (i < half ? "part-1" : "part-2") << ".safetensors\"";
  }
  index << "}}";
  index.close();
  const auto loaded = read_hf_model(dir);
  EXPECT_EQ(loaded.weights.size(), raw.weights.size());
}

TEST(ModelFiles, MissingConfigFieldIsNamed) {
  const std::string dir = testing::temp_dir("cfg");
  std::ofstream(dir + "/config.json") << R"({"hidden_size": 32, "intermediate_size": 64})";
  expect_error<FormatError>([&] { load_llama_config(dir + "/config.json"); },
                            {dir + "/config.json", "num_hidden_layers"});
  std::ofstream(dir + "/config.json") << R"({"hidden_size": "32"})";
  expect_error<FormatError>([&] { load_llama_config(dir + "/config.json"); },
                            {"hidden_size", "must be an integer"});
}

TEST(ModelFiles, ShapeThatDisagreesWithConfigIsNamed) {
  auto raw = random_model(testing::tiny_config(), 9);
  const std::string dir = testing::temp_dir("shape");
  save_hf_model(raw, dir);
  auto config = raw.config;
  config.intermediate_size = 65;
  save_llama_config(config, dir + "/config.json");
  ModelLoadOptions no_tok;
  no_tok.load_tokenizer = false;
  expect_error<FormatError>([&] { load_model(dir, no_tok); },
                            {"mlp.gate_proj.weight", "expected [65, 32]"});
}

TEST(ModelFiles, TruncatedOrLyingLlama2cCheckpointsAreRefused) {
  const auto raw = random_model(testing::tiny_config(), 10);
  const std::string dir = testing::temp_dir("l2c");
  save_llama2c(raw, dir + "/m.bin");
  std::ifstream in(dir + "/m.bin", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(dir + "/cut.bin", std::ios::binary) << bytes.substr(0, bytes.size() - 4);
  expect_error<FormatError>([&] { read_llama2c(dir + "/cut.bin"); }, {"cut.bin", "truncated"});
  std::string lying = bytes;
  const int32_t layers = 40;
  std::memcpy(lying.data() + 8, &layers, 4);
  std::ofstream(dir + "/lying.bin", std::ios::binary) << lying;
  expect_error<FormatError>([&] { read_llama2c(dir + "/lying.bin"); }, {"lying.bin", "requires"});
  std::ofstream(dir + "/garbage.bin", std::ios::binary) << std::string(100, '\xff');
  expect_error<FormatError>([&] { read_llama2c(dir + "/garbage.bin"); }, {"garbage.bin", "dim"});
  std::ofstream(dir + "/tiny.bin", std::ios::binary) << "abc";
  expect_error<FormatError>([&] { read_llama2c(dir + "/tiny.bin"); }, {"too short"});
}

// A 156-byte header whose dims multiply past 2^63: computed without overflow checks, its size
// wraps round to exactly the file's 156 bytes and the reader allocates garbage (bad_alloc).
TEST(ModelFiles, Llama2cHeaderWhoseSizesOverflowIsAFormatError) {
  const std::string dir = testing::temp_dir("l2c_overflow");
  const int32_t header[7] = {65536, 11097426, 2097152, 2048, 2048, 16777215, 1};
  std::string bytes(reinterpret_cast<const char*>(header), sizeof(header));
  bytes += std::string(128, '\0');
  ASSERT_EQ(bytes.size(), 156u);
  std::ofstream(dir + "/wrap.bin", std::ios::binary) << bytes;
  expect_error<FormatError>([&] { read_llama2c(dir + "/wrap.bin"); },
                            {"wrap.bin", "n_layers 2097152", "overflows"});
  ModelLoadOptions no_tok;
  no_tok.load_tokenizer = false;
  EXPECT_THROW(load_model(dir + "/wrap.bin", no_tok), FormatError);
}

TEST(ModelFiles, Llama2cReaderOnAFolderSaysSo) {
  const std::string dir = testing::temp_dir("l2c_folder");
  expect_error<FormatError>([&] { read_llama2c(dir); }, {dir, "is a folder"});
}

// config.json saying fewer layers than the file holds used to load a truncated model.
TEST(ModelFiles, ConfigThatDisagreesWithTheTensorsIsRefused) {
  auto raw = random_model(testing::tiny_config(), 12);  // 2 layers
  const std::string dir = testing::temp_dir("layers");
  save_hf_model(raw, dir);
  auto config = raw.config;
  config.num_hidden_layers = 1;
  save_llama_config(config, dir + "/config.json");
  ModelLoadOptions no_tok;
  no_tok.load_tokenizer = false;
  expect_error<FormatError>(
      [&] { load_model(dir, no_tok); },
      {dir, "unexpected tensor", "num_hidden_layers 1", "'model.layers.1.input_layernorm.weight'"});
  config.num_hidden_layers = 3;
  save_llama_config(config, dir + "/config.json");
  expect_error<FormatError>([&] { load_model(dir, no_tok); }, {dir, "missing tensor", "layers.2"});
}

TEST(ModelFiles, NonFiniteWeightsAreRefusedWithTheTensorName) {
  auto raw = random_model(testing::tiny_config(), 13);
  for (auto& [name, t] : raw.weights) {
    if (name == "model.layers.1.mlp.down_proj.weight") t[3][4] = std::nan("");
  }
  expect_error<FormatError>(
      [&] { LlamaModel(raw.config, raw.weights, torch::kFloat32, "nan-model"); },
      {"nan-model", "model.layers.1.mlp.down_proj.weight", "non-finite"});
  const std::string dir = testing::temp_dir("nan_l2c");
  save_llama2c(raw, dir + "/m.bin");
  ModelLoadOptions no_tok;
  no_tok.load_tokenizer = false;
  expect_error<FormatError>([&] { load_model(dir + "/m.bin", no_tok); },
                            {"m.bin", "model.layers.1.mlp.down_proj.weight"});
}

TEST(ModelFiles, MissingPathAndAmbiguousTokenizerAreErrors) {
  expect_error<FormatError>([] { load_model("/nonexistent/model.bin"); }, {"/nonexistent"});
  const std::string dir = testing::temp_dir("ambig");
  std::ofstream(dir + "/a.model") << "x";
  std::ofstream(dir + "/b.model") << "y";
  expect_error<FormatError>([&] { find_tokenizer(dir + "/m.bin"); }, {"a.model", "b.model"});
}

TEST(ModelFiles, MismatchedTokenizerIsRefused) {
  PPLUG_REQUIRE_SHARED(tok, "llama2-tokenizer/tokenizer.model");
  const auto raw = random_model(testing::tiny_config(), 11);
  const std::string dir = testing::temp_dir("mismatch");
  save_hf_model(raw, dir, tok);
  expect_error<MismatchError>([&] { load_model(dir); }, {"32000", "512"});
}

}  // namespace
}  // namespace pplug
