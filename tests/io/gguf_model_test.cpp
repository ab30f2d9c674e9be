// GGUF model files: the bytes pplug writes follow llama.cpp's layouts (checked against the
// layout definitions, computed here independently), every weight type reads back into the model
// it should be, quantized matrices are used as stored, and broken files are refused by name.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <c10/util/Half.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "format/gguf_metadata.h"
#include "format/gguf_writer.h"
#include "kernels/cpu_isa.h"
#include "kernels/packed_weight.h"
#include "pplug/error.h"
#include "pplug/model_io.h"
#include "pplug/tokenizer.h"
#include "support/test_models.h"

namespace pplug {
namespace {

namespace fs = std::filesystem;

// d 64, hidden 96, vocab 256: every matrix holds whole 32-weight blocks; untied head.
RawModel block_friendly_model(bool tied = false) {
  auto config = testing::tiny_config(256);
  config.hidden_size = 64;
  config.intermediate_size = 96;
  config.tie_word_embeddings = tied;
  return random_model(config, 21, 0.05);
}

at::Tensor weight(const RawModel& raw, const std::string& name) {
  for (const auto& [n, t] : raw.weights) {
    if (n == name) return t;
  }
  ADD_FAILURE() << "no " << name;
  return {};
}

std::string file_bytes(const std::string& path, uint64_t offset, uint64_t n) {
  std::ifstream in(path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(offset));
  std::string out(n, '\0');
  in.read(out.data(), static_cast<std::streamsize>(n));
  return out;
}

// Q8_0 as ggml's reference quantizer defines it: per block of 32, d = max|x| / 127 stored as
// IEEE half, q = round(x / d) (llama.cpp multiplies by 1/d), written as { half d; int8 q[32] }.
std::string q8_0_reference(const at::Tensor& rows) {
  const auto x = rows.to(at::kFloat).contiguous();
  const float* p = x.data_ptr<float>();
  std::string out;
  for (int64_t b = 0; b < x.numel() / 32; ++b) {
    float amax = 0.0f;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(p[b * 32 + j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const uint16_t half = c10::Half(d).x;
    out.append(reinterpret_cast<const char*>(&half), 2);
    for (int j = 0; j < 32; ++j) out.push_back(static_cast<char>(std::lround(p[b * 32 + j] * id)));
  }
  return out;
}

at::Tensor logits(const LlamaModel& model) {
  c10::InferenceMode guard;
  auto ids = at::tensor(std::vector<int64_t>{1, 7, 99, 200, 3, 45, 255}, at::kLong).unsqueeze(0);
  return model.forward(model.embed(ids), {}).logits;
}

LoadedModel load_without_tokenizer(const std::string& path) {
  ModelLoadOptions options;
  options.load_tokenizer = false;
  return load_model(path, options);
}

template <typename E = FormatError>
void expect_error(const std::function<void()>& fn, const std::vector<std::string>& needles) {
  try {
    fn();
    ADD_FAILURE() << "expected an exception";
  } catch (const E& e) {
    for (const auto& n : needles) {
      EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what();
    }
  }
}

TEST(GgufModel, Q8_0BytesFollowTheLayoutDefinitionAndQKUseTheInterleavedRopeLayout) {
  const auto raw = block_friendly_model();
  const std::string path = testing::temp_dir("gguf_layout") + "/m.gguf";
  save_gguf_model(raw, path, "q8_0");
  const auto meta = detail::read_gguf_metadata(path);
  EXPECT_EQ(meta.find("general.architecture")->text, "llama");
  EXPECT_EQ(meta.find("general.file_type")->integer, 7);  // LLAMA_FTYPE_MOSTLY_Q8_0
  EXPECT_EQ(meta.tensors.size(), 2u + 9u * 2u + 1u);
  for (const auto& t : meta.tensors) EXPECT_EQ(t.offset % 32, 0u) << t.name;

  const auto* down = meta.find_tensor("blk.1.ffn_down.weight");
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(down->type, static_cast<uint32_t>(detail::GgmlType::kQ8_0));
  EXPECT_EQ(down->shape, (std::vector<int64_t>{64, 96}));
  EXPECT_EQ(down->bytes, 64u * 3u * 34u);
  EXPECT_EQ(file_bytes(path, down->offset, down->bytes),
            q8_0_reference(weight(raw, "model.layers.1.mlp.down_proj.weight")));

  // GGUF row h*hd + 2i + j holds HF row h*hd + j*hd/2 + i (hd 16 here: d 64, 4 heads).
  const auto q = weight(raw, "model.layers.0.self_attn.q_proj.weight");
  const auto* gq = meta.find_tensor("blk.0.attn_q.weight");
  ASSERT_NE(gq, nullptr);
  const int64_t hd = 16;
  for (int64_t row : {0, 1, 2, 15, 17, 63}) {
    const int64_t h = row / hd, i = (row % hd) / 2, j = row % 2;
    EXPECT_EQ(file_bytes(path, gq->offset + row * 2 * 34, 2 * 34),
              q8_0_reference(q[h * hd + j * hd / 2 + i]))
        << "row " << row;
  }
  // Norms stay float32.
  const auto* norm = meta.find_tensor("output_norm.weight");
  EXPECT_EQ(norm->type, static_cast<uint32_t>(detail::GgmlType::kF32));
}

TEST(GgufModel, Float32RoundTripIsExact) {
  for (bool tied : {false, true}) {
    const auto raw = block_friendly_model(tied);
    const std::string path = testing::temp_dir("gguf_f32") + "/m.gguf";
    save_gguf_model(raw, path, "f32");
    const auto loaded = load_without_tokenizer(path);
    const LlamaModel reference(raw.config, raw.weights);
    EXPECT_EQ(loaded.model->fingerprint(), reference.fingerprint());
    EXPECT_EQ(loaded.model->config().tie_word_embeddings, tied);
    EXPECT_TRUE(at::equal(logits(*loaded.model), logits(reference)));
  }
}

// The model a GGUF of `type` should load as: the float model with its token embedding rounded
// through `type` too (GGUF stores it so, as llama.cpp does), matrices stored as `type`.
LlamaModel expected_model(const RawModel& raw, const std::string& type) {
  RawModel rounded = raw;
  kernels::WeightType wt;
  EXPECT_TRUE(kernels::parse_weight_type(type, &wt));
  for (auto& [name, t] : rounded.weights) {
    if (name == "model.embed_tokens.weight") t = kernels::pack_weight(t, wt).dense(at::kFloat);
  }
  return LlamaModel(rounded.config, rounded.weights, torch::kFloat32, "expected", type);
}

TEST(GgufModel, EveryTypeLoadsAsTheModelItStores) {
  for (bool tied : {false, true}) {
    const auto raw = block_friendly_model(tied);
    for (const char* type : {"f16", "bf16", "q8_0", "q4_0"}) {
      const std::string path = testing::temp_dir("gguf_types") + "/m.gguf";
      save_gguf_model(raw, path, type);
      const auto loaded = load_without_tokenizer(path);
      EXPECT_EQ(loaded.model->weight_type(), type) << type;
      const auto expected = expected_model(raw, type);
      // Same stored bytes, so the same logits bit for bit.
      const auto got = loaded.model->parameters();
      const auto want = expected.parameters();
      ASSERT_EQ(got.size(), want.size());
      for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_TRUE(at::equal(got[i], want[i])) << type << " parameter " << i;
      }
      EXPECT_TRUE(at::equal(logits(*loaded.model), logits(expected))) << type << " tied " << tied;
    }
  }
}

TEST(GgufModel, QuantizedFileLoadsAtAnotherTypeWhenAsked) {
  const auto raw = block_friendly_model();
  const std::string path = testing::temp_dir("gguf_other") + "/m.gguf";
  save_gguf_model(raw, path, "q8_0");
  ModelLoadOptions options;
  options.load_tokenizer = false;
  options.weight_type = "f32";
  const auto loaded = load_model(path, options);
  EXPECT_EQ(loaded.model->weight_type(), "f32");
  const auto q8 = load_without_tokenizer(path);
  // The same weights. On AVX512_BF16 CPUs the Q8_0 model prefills through bf16 panels
  // (kernels/dense_linear.h): each product rounded within 2^-8; through the layers the logits
  // differed by 1.1 * 2^-8 of the largest, hence 2^-6 there, float32's rounding elsewhere.
  const auto as_f32 = logits(*loaded.model), as_q8 = logits(*q8.model);
  const double tolerance =
      kernels::best_isa() >= kernels::Isa::kAvx512Bf16 ? std::ldexp(1.0, -6) : 1e-4;
  const double difference = (as_f32 - as_q8).abs().max().item<double>();
  EXPECT_LE(difference, tolerance * std::max(1.0, as_f32.abs().max().item<double>()));
  // Converting a quantized model writes its dequantized weights.
  const auto back = read_gguf_model(path);
  EXPECT_EQ(back.quantized_type, "q8_0");
  const auto floats = dequantized(back);
  EXPECT_TRUE(floats.quantized_type.empty());
  for (const auto& [name, t] : floats.weights) EXPECT_NE(t.scalar_type(), at::kByte) << name;
}

TEST(GgufModel, GgufWrittenFromAGgufKeepsItsBytes) {
  const auto raw = block_friendly_model();
  const std::string dir = testing::temp_dir("gguf_again");
  save_gguf_model(raw, dir + "/a.gguf", "q4_0");
  save_gguf_model(read_gguf_model(dir + "/a.gguf"), dir + "/b.gguf", "q4_0");
  const auto a = detail::read_gguf_metadata(dir + "/a.gguf");
  const auto b = detail::read_gguf_metadata(dir + "/b.gguf");
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    EXPECT_EQ(file_bytes(dir + "/a.gguf", a.tensors[i].offset, a.tensors[i].bytes),
              file_bytes(dir + "/b.gguf", b.tensors[i].offset, b.tensors[i].bytes))
        << a.tensors[i].name;
  }
}

TEST(GgufModel, Stories260KConvertsWithItsVocabularyAndKeepsItsOutputs) {
  PPLUG_REQUIRE_SHARED(bin, "stories260K/stories260K.bin");
  const std::string dir = testing::temp_dir("gguf_stories");
  const std::string tok = fs::path(bin).parent_path().string() + "/tok512.model";
  save_gguf_model(read_llama2c(bin), dir + "/s.gguf", "f32", tok);
  const auto original = load_model(bin);
  const auto gguf = load_model(dir + "/s.gguf");  // its own vocabulary as the tokenizer
  EXPECT_EQ(gguf.tokenizer->path(), dir + "/s.gguf");
  EXPECT_EQ(gguf.model->fingerprint(), original.model->fingerprint());
  for (const std::string text :
       {"Once upon a time, there was a little girl named Lily.", "  two  spaces\tand a tab\n",
        "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80 emoji falls back to bytes", ""}) {
    const auto want = original.tokenizer->encode(text, true);
    EXPECT_EQ(gguf.tokenizer->encode(text, true), want) << text;
    EXPECT_EQ(gguf.tokenizer->decode(want), original.tokenizer->decode(want)) << text;
  }
  EXPECT_EQ(gguf.tokenizer->bos_id(), original.tokenizer->bos_id());
  EXPECT_EQ(gguf.tokenizer->eos_id(), original.tokenizer->eos_id());
  EXPECT_EQ(gguf.tokenizer->unk_id(), original.tokenizer->unk_id());
  EXPECT_TRUE(at::equal(logits(*gguf.model), logits(*original.model)));
}

// A file with the header, metadata and tensor table of `raw` at f32, written with one change.
void write_variant(const std::string& path, const std::function<void(detail::GgufWriter&)>& edit,
                   const std::string& arch = "llama") {
  const auto raw = block_friendly_model();
  const std::string tmp = path + ".base.gguf";
  save_gguf_model(raw, tmp, "f32");
  const auto meta = detail::read_gguf_metadata(tmp);
  detail::GgufWriter out;
  out.add_string("general.architecture", arch);
  for (const auto& [key, v] : meta.values) {
    if (key.rfind("llama.", 0) != 0) continue;
    if (v.type == detail::GgufType::kFloat32) {
      out.add_float32(key, static_cast<float>(v.real));
    } else {
      out.add_uint32(key, static_cast<uint32_t>(v.integer));
    }
  }
  for (const auto& t : meta.tensors) {
    const std::string bytes = file_bytes(tmp, t.offset, t.bytes);
    out.add_tensor(t.name, t.shape, static_cast<detail::GgmlType>(t.type), t.bytes,
                   [bytes] { return bytes; });
  }
  edit(out);
  out.write(path);
}

TEST(GgufModel, BrokenFilesAreRefusedByName) {
  const std::string dir = testing::temp_dir("gguf_broken");
  // Another architecture.
  write_variant(
      dir + "/gemma2.gguf", [](detail::GgufWriter&) {}, "gemma2");
  expect_error([&] { read_gguf_model(dir + "/gemma2.gguf"); },
               {"gemma2.gguf", "general.architecture", "gemma2"});
  // A rope_freqs tensor of the wrong type and a tensor that is not part of the model.
  write_variant(dir + "/k.gguf", [](detail::GgufWriter& w) {
    w.add_tensor("rope_freqs.weight", {256}, static_cast<detail::GgmlType>(14), 210,
                 [] { return std::string(210, '\0'); });
  });
  expect_error([&] { read_gguf_model(dir + "/k.gguf"); }, {"k.gguf", "rope_freqs.weight"});
  write_variant(dir + "/extra.gguf", [](detail::GgufWriter& w) {
    w.add_tensor("blk.0.ffn_gate_inp.weight", {64}, detail::GgmlType::kF32, 256,
                 [] { return std::string(256, '\0'); });
  });
  expect_error([&] { read_gguf_model(dir + "/extra.gguf"); }, {"blk.0.ffn_gate_inp.weight"});
  // RoPE scaling pplug does not implement is refused rather than ignored.
  write_variant(dir + "/scaled.gguf",
                [](detail::GgufWriter& w) { w.add_string("llama.rope.scaling.type", "yarn"); });
  expect_error([&] { read_gguf_model(dir + "/scaled.gguf"); }, {"llama.rope.scaling.type", "yarn"});

  // A matrix of a type pplug neither computes in nor expands (Q8_1) names its type and the way
  // out; a K-quant matrix whose rows are not whole 256-value blocks names the tensor.
  for (const bool kquant : {false, true}) {
    const auto raw = block_friendly_model();
    const std::string tmp = dir + "/base.gguf";
    save_gguf_model(raw, tmp, "f32");
    const auto meta = detail::read_gguf_metadata(tmp);
    detail::GgufWriter w;
    for (const auto& [key, v] : meta.values) {
      if (v.type == detail::GgufType::kString) {
        w.add_string(key, v.text);
      } else if (v.type == detail::GgufType::kFloat32) {
        w.add_float32(key, static_cast<float>(v.real));
      } else {
        w.add_uint32(key, static_cast<uint32_t>(v.integer));
      }
    }
    for (const auto& t : meta.tensors) {
      if (t.name == "output.weight" && !kquant) {  // 256 x 64 values = 512 Q8_1 blocks
        w.add_tensor(t.name, {256, 64}, static_cast<detail::GgmlType>(9), 512 * 36,
                     [] { return std::string(512 * 36, '\0'); });
        continue;
      }
      if (t.name == "output.weight") {  // 64 Q6_K blocks, but rows of 64 values
        w.add_tensor(t.name, {256, 64}, static_cast<detail::GgmlType>(14), 64 * 210,
                     [] { return std::string(64 * 210, '\0'); });
        continue;
      }
      const std::string bytes = file_bytes(tmp, t.offset, t.bytes);
      w.add_tensor(t.name, t.shape, static_cast<detail::GgmlType>(t.type), t.bytes,
                   [bytes] { return bytes; });
    }
    const std::string path = dir + (kquant ? "/q6k.gguf" : "/q81.gguf");
    w.write(path);
    if (kquant) {
      expect_error([&] { read_gguf_model(path); }, {"output.weight", "Q6_K", "whole blocks"});
    } else {
      expect_error([&] { read_gguf_model(path); }, {"output.weight", "Q8_1", "llama-quantize"});
    }
  }

  // Every truncation of a valid file is refused with the file's name, never a crash.
  const std::string good = dir + "/good.gguf";
  save_gguf_model(block_friendly_model(), good, "q8_0");
  const auto size = fs::file_size(good);
  std::ifstream in(good, std::ios::binary);
  std::string all(size, '\0');
  in.read(all.data(), static_cast<std::streamsize>(size));
  for (uint64_t cut : {uint64_t{0}, uint64_t{3}, uint64_t{9}, uint64_t{24}, uint64_t{100},
                       uint64_t{700}, size / 2, size - 1}) {
    const std::string path = dir + "/cut" + std::to_string(cut) + ".gguf";
    std::ofstream(path, std::ios::binary).write(all.data(), static_cast<std::streamsize>(cut));
    expect_error([&] { read_gguf_model(path); }, {path});
  }
}

TEST(GgufModel, WriterRefusesInconsistentInput) {
  detail::GgufWriter w;
  w.add_uint32("a", 1);
  expect_error<InvalidArgument>([&] { w.add_uint32("a", 2); }, {"\"a\" added twice"});
  expect_error<InvalidArgument>(
      [&] {
        w.add_tensor("t", {3, 33}, detail::GgmlType::kQ8_0, 99, [] { return std::string(); });
      },
      {"\"t\"", "Q8_0"});
  const auto raw = block_friendly_model();
  expect_error<InvalidArgument>([&] { save_gguf_model(raw, "/tmp/x.gguf", "q5_k"); }, {"q5_k"});
}

}  // namespace
}  // namespace pplug

namespace pplug {
namespace {

// Qwen2 (q/k/v biases; llama.cpp's "qwen2" keeps the HF RoPE layout), Qwen3 (q/k norms, head_dim
// 16 with d 64 and 4 heads) and Llama with attention biases (permuted with their rows) go
// through GGUF and come back as the same model.
TEST(GgufModel, QwenAndBiasedLlamaVariantsRoundTrip) {
  for (const std::string kind : {"qwen2", "qwen3", "llama-bias"}) {
    auto config = block_friendly_model().config;
    config.model_type = kind == "llama-bias" ? "llama" : kind;
    config.qkv_bias = kind != "qwen3";
    config.o_bias = kind == "llama-bias";
    config.qk_norm = kind == "qwen3";
    if (kind == "qwen3") config.explicit_head_dim = 32;
    const auto raw = random_model(config, 31, 0.2);
    const std::string path = testing::temp_dir("gguf_variant") + "/" + kind + ".gguf";
    save_gguf_model(raw, path, "f32");
    const auto meta = detail::read_gguf_metadata(path);
    EXPECT_EQ(meta.find("general.architecture")->text, config.model_type) << kind;
    const auto loaded = load_without_tokenizer(path);
    const auto& c = loaded.model->config();
    EXPECT_EQ(c.head_dim(), config.head_dim()) << kind;
    EXPECT_EQ(c.qkv_bias, config.qkv_bias) << kind;
    EXPECT_EQ(c.o_bias, config.o_bias) << kind;
    EXPECT_EQ(c.qk_norm, config.qk_norm) << kind;
    const LlamaModel reference(raw.config, raw.weights);
    EXPECT_EQ(loaded.model->fingerprint(), reference.fingerprint()) << kind;
    EXPECT_TRUE(at::equal(logits(*loaded.model), logits(reference))) << kind;
  }
}

// Gemma (its own architecture: no output tensor, norms stored as 1 + w, GELU and the embedding
// scale implied), Phi-3 (attn_qkv and a double-height ffn_up, gate rows first) and a Llama whose
// RoPE frequencies carry llama.cpp's rope_freqs factors go through GGUF and come back as the
// same model, at f32 and with Q8_0 matrices (phi3's fused rows split as bytes).
TEST(GgufModel, GemmaPhi3AndRopeFreqsRoundTrip) {
  for (const std::string kind : {"gemma", "phi3", "rope-freqs"}) {
    auto config = block_friendly_model().config;
    config.model_type = kind == "rope-freqs" ? "llama" : kind;
    config.set_family_defaults();
    if (kind == "gemma") config.explicit_head_dim = 32;
    if (kind == "rope-freqs")
      config.rope_freq_factors = {1.0f, 1.0f, 1.25f, 2.0f, 4.0f, 7.5f, 8.0f, 8.0f};
    auto raw = random_model(config, 33, 0.2);
    for (auto& [name, t] : raw.weights) {
      if (name.find("norm") != std::string::npos) t = t + 0.25;
    }
    for (const char* type : {"f32", "q8_0"}) {
      const std::string path = testing::temp_dir("gguf_family") + "/" + kind + "-" + type + ".gguf";
      save_gguf_model(raw, path, type);
      const auto meta = detail::read_gguf_metadata(path);
      EXPECT_EQ(meta.find("general.architecture")->text, kind == "rope-freqs" ? "llama" : kind);
      if (kind == "gemma") {
        EXPECT_EQ(meta.find_tensor("output.weight"), nullptr);
      }
      if (kind == "phi3") {
        EXPECT_NE(meta.find_tensor("blk.0.attn_qkv.weight"), nullptr);
        EXPECT_EQ(meta.find_tensor("blk.0.attn_q.weight"), nullptr);
        EXPECT_EQ(meta.find_tensor("blk.0.ffn_gate.weight"), nullptr);
        EXPECT_EQ(meta.find_tensor("blk.0.ffn_up.weight")->shape,
                  (std::vector<int64_t>{2 * config.intermediate_size, config.hidden_size}));
      }
      if (kind == "rope-freqs") EXPECT_NE(meta.find_tensor("rope_freqs.weight"), nullptr);
      const auto loaded = load_without_tokenizer(path);
      const auto& c = loaded.model->config();
      EXPECT_EQ(c.hidden_act, config.hidden_act) << kind;
      EXPECT_EQ(c.embedding_multiplier, config.embedding_multiplier) << kind;
      EXPECT_EQ(c.rope_freq_factors, config.rope_freq_factors) << kind;
      if (std::string(type) == "f32") {
        const LlamaModel reference(raw.config, raw.weights);
        EXPECT_EQ(loaded.model->fingerprint(), reference.fingerprint()) << kind;
        EXPECT_TRUE(at::equal(logits(*loaded.model), logits(reference))) << kind;
      } else {
        EXPECT_EQ(loaded.model->weight_type(), "q8_0") << kind;
        // Same stored bytes (phi3's fused rows split and joined as bytes): the same logits.
        const auto expected = expected_model(raw, "q8_0");
        EXPECT_TRUE(at::equal(logits(*loaded.model), logits(expected))) << kind;
      }
    }
  }
}

// Llama 3.1's llama3 RoPE scaling reaches llama.cpp as the rope_freqs tensor its converter
// computes; reading it back recovers the llama3 parameters (so the model keeps its HF
// fingerprint), and factors that are not Llama 3's are kept as factors.
TEST(GgufModel, Llama3RopeScalingTravelsAsRopeFreqs) {
  auto config = block_friendly_model().config;
  config.hidden_size = 256;  // head_dim 64: 32 frequencies, all three bands of llama3 scaling
  config.rope_theta = 500000.0;
  config.rope_scaling_type = "llama3";
  config.rope_scaling_factor = 8.0;
  config.rope_low_freq_factor = 1.0;
  config.rope_high_freq_factor = 4.0;
  config.rope_original_max_position_embeddings = 8192;
  const auto raw = random_model(config, 34, 0.05);
  const std::string path = testing::temp_dir("gguf_llama3") + "/m.gguf";
  save_gguf_model(raw, path, "f32");
  const auto meta = detail::read_gguf_metadata(path);
  ASSERT_NE(meta.find_tensor("rope_freqs.weight"), nullptr);
  const auto loaded = load_without_tokenizer(path);
  EXPECT_EQ(loaded.model->config().rope_scaling_type, "llama3");
  EXPECT_TRUE(loaded.model->config().rope_freq_factors.empty());
  const LlamaModel reference(raw.config, raw.weights);
  EXPECT_EQ(loaded.model->fingerprint(), reference.fingerprint());
  EXPECT_TRUE(at::allclose(logits(*loaded.model), logits(reference), 1e-6, 1e-6));
  // The divisors themselves, against HF's llama3 rule computed here: wavelengths below
  // 8192 / 4 keep their frequency, above 8192 / 1 are divided by 8, between blend.
  const auto divisors = raw.config.rope_frequency_divisors();
  for (size_t i = 0; i < divisors.size(); ++i) {
    const double freq = std::pow(500000.0, -2.0 * static_cast<double>(i) / 64.0);
    const double wavelen = 2 * M_PI / freq;
    double want = 1.0;
    if (wavelen > 8192.0) {
      want = 8.0;
    } else if (wavelen >= 2048.0) {
      const double smooth = (8192.0 / wavelen - 1.0) / 3.0;
      want = freq / ((1 - smooth) * freq / 8.0 + smooth * freq);
    }
    EXPECT_NEAR(divisors[i], want, 1e-9 * want) << i;
  }
}

}  // namespace
}  // namespace pplug
