// Loading T5 models: HF folders (config.json with model_type "t5", safetensors) and llama.cpp
// "t5" GGUF files, and what both refuse (by file, field or tensor name).
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <regex>

#include "format/gguf_writer.h"
#include "pplug/error.h"
#include "pplug/safetensors.h"
#include "pplug/t5_io.h"
#include "support/test_models.h"

namespace pplug {
namespace {

namespace fs = std::filesystem;

at::Tensor logits_of(const T5Model& m) {
  const auto ids = at::tensor(std::vector<int64_t>{3, 9, 27, 1}, at::kLong).unsqueeze(0);
  const auto dec = at::tensor(std::vector<int64_t>{0, 5, 7}, at::kLong).unsqueeze(0);
  return m.decode(m.embed(dec), {}, m.encode(m.embed(ids)), {}).logits;
}

template <typename Fn>
std::string error_of(Fn fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

ModelLoadOptions no_tokenizer() {
  ModelLoadOptions o;
  o.load_tokenizer = false;
  return o;
}

// llama.cpp's GGUF name of an HF T5 tensor (gguf-py tensor_mapping.py, written out here
// independently of the reader).
std::string gguf_name(const std::string& hf) {
  static const std::vector<std::pair<std::regex, std::string>> rules = {
      {std::regex(R"(^shared\.weight$)"), "token_embd.weight"},
      {std::regex(R"(^lm_head\.weight$)"), "output.weight"},
      {std::regex(R"(^encoder\.final_layer_norm\.weight$)"), "enc.output_norm.weight"},
      {std::regex(R"(^decoder\.final_layer_norm\.weight$)"), "dec.output_norm.weight"},
      {std::regex(R"(^(en|de)coder\.block\.(\d+)\.layer\.0\.layer_norm\.weight$)"),
       "$1c.blk.$2.attn_norm.weight"},
      {std::regex(R"(^(en|de)coder\.block\.(\d+)\.layer\.0\.SelfAttention\.([qkvo])\.weight$)"),
       "$1c.blk.$2.attn_$3.weight"},
      {std::regex(
           R"(^(en|de)coder\.block\.(\d+)\.layer\.0\.SelfAttention\.relative_attention_bias\.weight$)"),
       "$1c.blk.$2.attn_rel_b.weight"},
      {std::regex(R"(^encoder\.block\.(\d+)\.layer\.1\.layer_norm\.weight$)"),
       "enc.blk.$1.ffn_norm.weight"},
      {std::regex(R"(^decoder\.block\.(\d+)\.layer\.1\.layer_norm\.weight$)"),
       "dec.blk.$1.cross_attn_norm.weight"},
      {std::regex(R"(^decoder\.block\.(\d+)\.layer\.1\.EncDecAttention\.([qkvo])\.weight$)"),
       "dec.blk.$1.cross_attn_$2.weight"},
      {std::regex(R"(^decoder\.block\.(\d+)\.layer\.2\.layer_norm\.weight$)"),
       "dec.blk.$1.ffn_norm.weight"},
      {std::regex(R"(^(en|de)coder\.block\.(\d+)\.layer\.\d\.DenseReluDense\.wi_0\.weight$)"),
       "$1c.blk.$2.ffn_gate.weight"},
      {std::regex(R"(^(en|de)coder\.block\.(\d+)\.layer\.\d\.DenseReluDense\.wi(_1)?\.weight$)"),
       "$1c.blk.$2.ffn_up.weight"},
      {std::regex(R"(^(en|de)coder\.block\.(\d+)\.layer\.\d\.DenseReluDense\.wo\.weight$)"),
       "$1c.blk.$2.ffn_down.weight"},
  };
  for (const auto& [re, format] : rules) {
    if (std::regex_match(hf, re)) {
      return std::regex_replace(hf, re, format);  // "en" + "c.blk" = "enc.blk"
    }
  }
  ADD_FAILURE() << "no GGUF name for " << hf;
  return hf;
}

// Writes `raw` as a llama.cpp t5 GGUF (F32 tensors), with `extra` tensors appended and the
// tensor called `drop` left out.
void write_t5_gguf(const RawT5Model& raw, const std::string& path,
                   const std::vector<std::pair<std::string, at::Tensor>>& extra = {},
                   const std::string& drop = "") {
  const auto& c = raw.config;
  detail::GgufWriter out;
  out.add_string("general.architecture", "t5");
  out.add_uint32("t5.context_length", 512);
  out.add_uint32("t5.embedding_length", static_cast<uint32_t>(c.d_model));
  out.add_uint32("t5.feed_forward_length", static_cast<uint32_t>(c.d_ff));
  out.add_uint32("t5.block_count", static_cast<uint32_t>(c.num_layers));
  out.add_uint32("t5.attention.head_count", static_cast<uint32_t>(c.num_heads));
  out.add_uint32("t5.attention.key_length", static_cast<uint32_t>(c.d_kv));
  out.add_uint32("t5.attention.value_length", static_cast<uint32_t>(c.d_kv));
  out.add_float32("t5.attention.layer_norm_epsilon", static_cast<float>(c.layer_norm_epsilon));
  out.add_uint32("t5.attention.relative_buckets_count",
                 static_cast<uint32_t>(c.relative_attention_num_buckets));
  out.add_float32("t5.attention.layer_norm_rms_epsilon", static_cast<float>(c.layer_norm_epsilon));
  out.add_uint32("t5.decoder_start_token_id", static_cast<uint32_t>(c.decoder_start_token_id));
  out.add_uint32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(c.eos_token_id));
  out.add_uint32("tokenizer.ggml.padding_token_id", static_cast<uint32_t>(c.pad_token_id));
  auto add = [&](const std::string& name, const at::Tensor& t) {
    const auto data = t.to(at::kFloat).contiguous();
    out.add_tensor(name, data.sizes().vec(), detail::GgmlType::kF32,
                   static_cast<uint64_t>(data.nbytes()), [data] {
                     return std::string(static_cast<const char*>(data.data_ptr()),
                                        static_cast<size_t>(data.nbytes()));
                   });
  };
  for (const auto& [name, t] : raw.weights) {
    const std::string g = gguf_name(name);
    if (g != drop) add(g, t);
  }
  for (const auto& [name, t] : extra) add(name, t);
  out.write(path);
}

class T5Loading : public ::testing::TestWithParam<bool> {};

TEST_P(T5Loading, HfFolderAndGgufGiveTheModelBuiltInProcess) {
  const auto raw = random_t5_model(testing::tiny_t5_config(GetParam()), 3);
  const T5Model direct(raw.config, raw.weights);
  const std::string dir = testing::temp_dir("t5_hf") + "/model";
  save_hf_t5_model(raw, dir);
  EXPECT_TRUE(is_t5_model(dir));
  const auto hf = load_t5_model(dir, no_tokenizer());
  EXPECT_EQ(hf.model->fingerprint(), direct.fingerprint());
  EXPECT_TRUE(logits_of(*hf.model).equal(logits_of(direct)));

  const std::string gguf = testing::temp_dir("t5_gguf") + "/t5.gguf";
  write_t5_gguf(raw, gguf);
  EXPECT_TRUE(is_t5_model(gguf));
  const auto from_gguf = load_t5_model(gguf, no_tokenizer());
  const auto& c = from_gguf.model->config();
  EXPECT_EQ(c.feed_forward_proj, raw.config.feed_forward_proj);
  EXPECT_EQ(c.tie_word_embeddings, raw.config.tie_word_embeddings);
  EXPECT_EQ(c.d_kv, raw.config.d_kv);
  EXPECT_EQ(from_gguf.model->fingerprint(), direct.fingerprint());
  EXPECT_TRUE(logits_of(*from_gguf.model).equal(logits_of(direct)));
}

INSTANTIATE_TEST_SUITE_P(T5, T5Loading, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Flan" : "Original";
                         });

void write_config(const std::string& dir, const nlohmann::json& j) {
  fs::create_directories(dir);
  std::ofstream(dir + "/config.json") << j.dump();
}

TEST(T5Loading, ConfigErrorsNameFileFieldAndValue) {
  const auto raw = random_t5_model(testing::tiny_t5_config(true), 1);
  const std::string dir = testing::temp_dir("t5_cfg") + "/model";
  save_hf_t5_model(raw, dir);
  const std::string config = dir + "/config.json";
  const auto good = nlohmann::json::parse(std::ifstream(config));
  auto with = [&](const std::string& key, const nlohmann::json& value) {
    auto j = good;
    if (value.is_discarded()) {
      j.erase(key);
    } else {
      j[key] = value;
    }
    write_config(dir, j);
    return error_of([&] { load_t5_model(dir, no_tokenizer()); });
  };
  auto msg = with("feed_forward_proj", "gated-silu");
  EXPECT_NE(msg.find(config), std::string::npos) << msg;
  EXPECT_NE(msg.find("feed_forward_proj 'gated-silu'"), std::string::npos) << msg;
  msg = with("d_model", nlohmann::json::value_t::discarded);
  EXPECT_NE(msg.find("missing field 'd_model'"), std::string::npos) << msg;
  msg = with("num_heads", "four");
  EXPECT_NE(msg.find("'num_heads' must be an integer, got \"four\""), std::string::npos) << msg;
  msg = with("relative_attention_num_buckets", 2);
  EXPECT_NE(msg.find("relative_attention_num_buckets must be at least 4, got 2"), std::string::npos)
      << msg;
  msg = with("eos_token_id", 64);
  EXPECT_NE(msg.find("eos_token_id 64 is outside the vocabulary"), std::string::npos) << msg;
  msg = with("model_type", "llama");
  EXPECT_NE(msg.find("model_type is \"llama\", expected \"t5\""), std::string::npos) << msg;
  EXPECT_FALSE(is_t5_model(dir));
  // num_decoder_layers absent = num_layers (HF's rule): the folder loads again.
  msg = with("num_decoder_layers", nlohmann::json::value_t::discarded);
  EXPECT_EQ(msg, "(no error)");
}

TEST(T5Loading, TensorErrorsNameTheTensor) {
  const auto raw = random_t5_model(testing::tiny_t5_config(true), 1);
  auto expect_error = [&](std::vector<std::pair<std::string, at::Tensor>> weights,
                          const std::string& needle) {
    const auto msg = error_of([&] { T5Model m(raw.config, weights, torch::kFloat32, "x.st"); });
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
  };
  auto weights = raw.weights;
  weights.erase(weights.begin() + 3);
  expect_error(weights, "x.st: missing tensor '" + raw.weights[3].first + "'");
  weights = raw.weights;
  weights.emplace_back("decoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight",
                       at::zeros({8, 4}));
  expect_error(weights,
               "unexpected tensor(s) for a T5 model with num_layers 2, num_decoder_layers 2, "
               "feed_forward_proj gated-gelu, untied head (does the config disagree with the "
               "weights?): 'decoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight'");
  weights = raw.weights;
  for (auto& [name, t] : weights) {
    if (name == "encoder.block.1.layer.1.DenseReluDense.wo.weight") t = at::zeros({32, 63});
  }
  expect_error(weights,
               "tensor 'encoder.block.1.layer.1.DenseReluDense.wo.weight' has shape [32, 63], "
               "expected [32, 64]");
  weights = raw.weights;
  weights[0].second = weights[0].second.clone();
  weights[0].second[0][0] = std::nan("");
  expect_error(weights, "non-finite");
  // A relu config given gated weights: the gated tensors are named as unexpected.
  auto relu = raw.config;
  relu.feed_forward_proj = "relu";
  const auto msg = error_of([&] { T5Model m(relu, raw.weights, torch::kFloat32, "x.st"); });
  EXPECT_NE(msg.find("missing tensor 'encoder.block.0.layer.1.DenseReluDense.wi.weight'"),
            std::string::npos)
      << msg;
}

TEST(T5Loading, GgufErrorsNameTheTensorOrKey) {
  const auto raw = random_t5_model(testing::tiny_t5_config(true), 2);
  const std::string dir = testing::temp_dir("t5_gguf_err");
  const std::string extra = dir + "/extra.gguf";
  // llama.cpp knows a cross-attention position table; HF's T5 has none, so it is refused.
  write_t5_gguf(raw, extra, {{"dec.blk.0.cross_attn_rel_b.weight", at::zeros({8, 4})}});
  auto msg = error_of([&] { load_t5_model(extra, no_tokenizer()); });
  EXPECT_NE(msg.find(extra + ": tensor \"dec.blk.0.cross_attn_rel_b.weight\" is not part of"),
            std::string::npos)
      << msg;
  const std::string missing = dir + "/missing.gguf";
  write_t5_gguf(raw, missing, {}, "dec.blk.1.cross_attn_v.weight");
  msg = error_of([&] { load_t5_model(missing, no_tokenizer()); });
  EXPECT_NE(msg.find(missing + ": missing tensor \"dec.blk.1.cross_attn_v.weight\""),
            std::string::npos)
      << msg;
  // A Llama GGUF is not a T5 one.
  detail::GgufWriter llama;
  llama.add_string("general.architecture", "llama");
  const std::string other = dir + "/llama.gguf";
  llama.write(other);
  EXPECT_FALSE(is_t5_model(other));
  msg = error_of([&] { load_t5_model(other, no_tokenizer()); });
  EXPECT_NE(msg.find("general.architecture: \"llama\" is not a T5 model"), std::string::npos)
      << msg;
  msg = error_of([&] { load_t5_model(dir + "/absent", no_tokenizer()); });
  EXPECT_NE(msg.find("no such file or folder"), std::string::npos) << msg;
  ModelLoadOptions q8 = no_tokenizer();
  q8.weight_type = "q8_0";
  msg = error_of([&] { load_t5_model(missing, q8); });
  EXPECT_NE(msg.find("weight type 'q8_0' is not supported"), std::string::npos) << msg;
}

}  // namespace
}  // namespace pplug
