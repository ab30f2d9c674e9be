// The Llama family's variations (LlamaConfig): Qwen2's q/k/v biases, Qwen3's per-head q/k
// RMSNorm with an explicit head_dim, Llama's attention_bias, RoPE scaling (linear, llama3) and
// Mistral's sliding window, Gemma's GeGLU, embedding scale and (1 + w) norms, Phi-3's fused
// projections in files, and a GGUF's per-frequency RoPE factors. The model is checked against a
// plain re-implementation of HF's modeling code written here (naive attention, repeat_interleave
// for GQA, no fusion, no kernels).
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>

#include "kernels/cpu_isa.h"
#include "pplug/error.h"
#include "pplug/model_io.h"
#include "pplug/safetensors.h"
#include "support/test_models.h"

namespace pplug {
namespace {

at::Tensor rms(const at::Tensor& x, const at::Tensor& w, double eps) {
  return x * at::rsqrt(x.pow(2).mean(-1, true) + eps) * w;
}

at::Tensor rotate_half(const at::Tensor& x) {
  const int64_t half = x.size(-1) / 2;
  return at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
}

// HF's inverse frequencies, written out from transformers' rope initialisation functions.
at::Tensor reference_inv_freq(const LlamaConfig& c) {
  const int64_t hd = c.head_dim();
  std::vector<double> f;
  for (int64_t i = 0; i < hd; i += 2) {
    double v = 1.0 / std::pow(c.rope_theta, static_cast<double>(i) / hd);
    if (!c.rope_freq_factors.empty()) v /= c.rope_freq_factors[i / 2];  // llama.cpp's rope_freqs
    if (c.rope_scaling_type == "linear") v /= c.rope_scaling_factor;
    if (c.rope_scaling_type == "llama3") {
      const double old = c.rope_original_max_position_embeddings;
      const double wavelen = 2 * M_PI / v;
      const double smooth = (old / wavelen - c.rope_low_freq_factor) /
                            (c.rope_high_freq_factor - c.rope_low_freq_factor);
      if (wavelen > old / c.rope_low_freq_factor) {
        v = v / c.rope_scaling_factor;
      } else if (wavelen >= old / c.rope_high_freq_factor) {
        v = (1 - smooth) * v / c.rope_scaling_factor + smooth * v;
      }
    }
    f.push_back(v);
  }
  return at::tensor(f, at::kDouble);
}

at::Tensor reference_logits(const RawModel& raw, const std::vector<int64_t>& ids) {
  const LlamaConfig& c = raw.config;
  std::map<std::string, at::Tensor> w(raw.weights.begin(), raw.weights.end());
  auto get = [&](const std::string& n) -> at::Tensor {
    const auto it = w.find(n);
    if (it == w.end()) ADD_FAILURE() << "no " << n;
    return it->second.to(at::kDouble);
  };
  const int64_t T = static_cast<int64_t>(ids.size()), H = c.num_attention_heads;
  const int64_t KV = c.num_key_value_heads, hd = c.head_dim();
  auto x = get("model.embed_tokens.weight").index_select(0, at::tensor(ids, at::kLong));  // (T, d)
  // Gemma: HF's GemmaModel multiplies inputs_embeds by sqrt(hidden_size).
  if (c.model_type == "gemma") x = x * std::sqrt(static_cast<double>(c.hidden_size));
  const auto angles = at::outer(at::arange(T, at::kDouble), reference_inv_freq(c));
  const auto cos = at::cat({angles, angles}, 1).cos().unsqueeze(1);  // (T, 1, hd)
  const auto sin = at::cat({angles, angles}, 1).sin().unsqueeze(1);
  const auto causal = at::ones({T, T}, at::kBool).tril();
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    const auto h = rms(x, get(p + "input_layernorm.weight"), c.rms_norm_eps);
    auto proj = [&](const std::string& name, bool bias) {
      auto y = at::matmul(h, get(p + "self_attn." + name + ".weight").t());
      return bias ? y + get(p + "self_attn." + name + ".bias") : y;
    };
    auto q = proj("q_proj", c.qkv_bias).view({T, H, hd});
    auto k = proj("k_proj", c.qkv_bias).view({T, KV, hd});
    auto v = proj("v_proj", c.qkv_bias).view({T, KV, hd});
    if (c.qk_norm) {
      q = rms(q, get(p + "self_attn.q_norm.weight"), c.rms_norm_eps);
      k = rms(k, get(p + "self_attn.k_norm.weight"), c.rms_norm_eps);
    }
    q = q * cos + rotate_half(q) * sin;
    k = k * cos + rotate_half(k) * sin;
    k = k.repeat_interleave(H / KV, 1);
    v = v.repeat_interleave(H / KV, 1);
    auto scores = at::einsum("thd,shd->hts", {q, k}) / std::sqrt(static_cast<double>(hd));
    scores = scores.masked_fill(causal.logical_not(), -1e300);
    auto att = at::einsum("hts,shd->thd", {at::softmax(scores, -1), v}).reshape({T, H * hd});
    auto o = at::matmul(att, get(p + "self_attn.o_proj.weight").t());
    if (c.o_bias) o = o + get(p + "self_attn.o_proj.bias");
    x = x + o;
    const auto f = rms(x, get(p + "post_attention_layernorm.weight"), c.rms_norm_eps);
    const auto gate = at::matmul(f, get(p + "mlp.gate_proj.weight").t());
    const auto up = at::matmul(f, get(p + "mlp.up_proj.weight").t());
    // HF's ACT2FN: silu; gelu_pytorch_tanh = gelu(approximate="tanh"); gelu = erf form.
    const auto act = c.hidden_act == "silu"                ? at::silu(gate)
                     : c.hidden_act == "gelu_pytorch_tanh" ? at::gelu(gate, "tanh")
                                                           : at::gelu(gate);
    x = x + at::matmul(act * up, get(p + "mlp.down_proj.weight").t());
  }
  x = rms(x, get("model.norm.weight"), c.rms_norm_eps);
  const auto head = get(c.tie_word_embeddings ? "model.embed_tokens.weight" : "lm_head.weight");
  return at::matmul(x, head.t()).to(at::kFloat);
}

LlamaConfig variant(const std::string& kind) {
  auto c = testing::tiny_config(128);  // d 32, 2 layers, 4 heads, 2 kv heads
  c.model_type =
      kind == "llama-bias" || kind == "llama3-rope" || kind == "linear-rope" || kind == "rope-freqs"
          ? "llama"
      : kind == "gemma-erf" ? "gemma"
                            : kind;
  c.set_family_defaults();
  if (kind == "qwen2") c.qkv_bias = true;
  if (kind == "qwen3") {
    c.qk_norm = true;
    c.explicit_head_dim = 16;  // q_dim 64 != d 32, as Qwen3 models have
  }
  if (kind == "llama-bias") c.qkv_bias = c.o_bias = true;
  if (kind == "llama3-rope") {
    c.rope_scaling_type = "llama3";
    c.rope_scaling_factor = 8.0;
    c.rope_low_freq_factor = 1.0;
    c.rope_high_freq_factor = 4.0;
    c.rope_original_max_position_embeddings = 16;  // small, so that all three bands occur
  }
  if (kind == "linear-rope") {
    c.rope_scaling_type = "linear";
    c.rope_scaling_factor = 4.0;
  }
  if (kind == "gemma" || kind == "gemma-erf") c.explicit_head_dim = 16;  // Gemma states head_dim
  if (kind == "gemma-erf") c.hidden_act = "gelu";
  if (kind == "rope-freqs") c.rope_freq_factors = {1.0f, 1.5f, 3.0f, 8.0f};
  return c;
}

// Random norm weights away from 1, so Gemma's (1 + w) convention and the norm placement show.
RawModel variant_model(const std::string& kind, uint64_t seed) {
  auto raw = random_model(variant(kind), seed, 0.2);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (auto& [name, t] : raw.weights) {
    if (name.size() > 11 && name.compare(name.size() - 11, 11, "norm.weight") == 0) {
      t = 1.0 + at::normal(0.0, 0.3, t.sizes(), gen);
    }
  }
  return raw;
}

const std::vector<std::string> kKinds = {"qwen2",       "qwen3",       "llama-bias",
                                         "llama3-rope", "linear-rope", "gemma",
                                         "gemma-erf",   "phi3",        "rope-freqs"};

TEST(LlamaVariants, ForwardMatchesAPlainReimplementation) {
  const std::vector<int64_t> ids{1, 5, 9, 77, 3, 120, 64, 2, 11, 42, 100};
  for (const auto& kind : kKinds) {
    const auto raw = variant_model(kind, 3);
    const LlamaModel model(raw.config, raw.weights);
    c10::InferenceMode guard;
    const auto input = at::tensor(ids, at::kLong).unsqueeze(0);
    const auto got = model.forward(model.embed(input), {}).logits[0];
    const auto want = reference_logits(raw, ids);
    EXPECT_TRUE(at::allclose(got, want, 1e-4, 1e-4))
        << kind << ": max difference " << (got - want).abs().max().item<double>();
  }
}

TEST(LlamaVariants, DecodeKernelsMatchTheFullForward) {
  for (const auto& kind : kKinds) {
    const auto raw = variant_model(kind, 4);
    for (const char* type : {"f32", "bf16"}) {
      const LlamaModel model(raw.config, raw.weights, torch::kFloat32, kind, type);
      c10::InferenceMode guard;
      auto ids = at::tensor(std::vector<int64_t>{5, 9, 11, 40, 41, 42, 3}, at::kLong).unsqueeze(0);
      const auto full = model.forward(model.embed(ids), {}).logits;
      KVCache cache(model, 1, 8);
      model.forward(model.embed(ids.narrow(1, 0, 3)), {}, &cache);
      for (int64_t t = 3; t < 7; ++t) {
        const auto step = model.forward(model.embed(ids.narrow(1, t, 1)), {}, &cache).logits[0][0];
        // bf16 weights on AVX512_BF16 CPUs: the full forward multiplies in oneDNN's bf16 GEMM,
        // which rounds activations and results to bf16 (2^-9 each) in every layer; the decode
        // kernels keep float32 activations. Measured up to 1.2 * 2^-6 of the largest logit over
        // these variants (4 layers of random weights), hence 2^-4. Elsewhere both paths compute
        // in float32.
        const bool bf16_gemm =
            std::string(type) == "bf16" && kernels::best_isa() >= kernels::Isa::kAvx512Bf16;
        const double difference = (step - full[0][t]).abs().max().item<double>();
        if (bf16_gemm) {
          EXPECT_LE(difference, std::ldexp(1.0, -4) * full[0][t].abs().max().item<double>())
              << kind << " " << type << " step " << t << ": " << difference;
        } else {
          EXPECT_TRUE(at::allclose(step, full[0][t], 1e-3, 1e-3))
              << kind << " " << type << " step " << t << ": " << difference;
        }
      }
    }
  }
}

TEST(LlamaVariants, HfFolderKeepsTheVariant) {
  for (const auto& kind : kKinds) {
    if (kind == "rope-freqs") continue;  // no config.json form (next test)
    const auto raw = variant_model(kind, 5);
    const std::string dir = testing::temp_dir("variant_" + kind);
    save_hf_model(raw, dir);
    const auto config = load_llama_config(dir + "/config.json");
    EXPECT_EQ(config.model_type, raw.config.model_type) << kind;
    EXPECT_EQ(config.head_dim(), raw.config.head_dim()) << kind;
    EXPECT_EQ(config.qkv_bias, raw.config.qkv_bias) << kind;
    EXPECT_EQ(config.o_bias, raw.config.o_bias) << kind;
    EXPECT_EQ(config.qk_norm, raw.config.qk_norm) << kind;
    EXPECT_EQ(config.rope_scaling_type, raw.config.rope_scaling_type) << kind;
    EXPECT_EQ(config.rope_scaling_factor, raw.config.rope_scaling_factor) << kind;
    EXPECT_EQ(config.hidden_act, raw.config.hidden_act) << kind;
    EXPECT_EQ(config.embedding_multiplier, raw.config.embedding_multiplier) << kind;
    EXPECT_EQ(config.tie_word_embeddings, raw.config.tie_word_embeddings) << kind;
    ModelLoadOptions options;
    options.load_tokenizer = false;
    const auto loaded = load_model(dir, options);
    const LlamaModel reference(raw.config, raw.weights);
    EXPECT_EQ(loaded.model->fingerprint(), reference.fingerprint()) << kind;
    c10::InferenceMode guard;
    const auto ids = at::tensor(std::vector<int64_t>{1, 5, 9, 77}, at::kLong).unsqueeze(0);
    const auto got = loaded.model->forward(loaded.model->embed(ids), {}).logits;
    const auto want = reference.forward(reference.embed(ids), {}).logits;
    EXPECT_TRUE(at::allclose(got, want, 1e-5, 1e-5)) << kind;
  }
}

bool has_tensor(const SafetensorsFile& st, const std::string& name) {
  const auto names = st.names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

// The files hold each family's own layout: HF Gemma norms are w (the model multiplies by 1 + w),
// HF Phi-3 projections are fused (q, k, v rows in one qkv_proj; gate rows before up rows).
TEST(LlamaVariants, HfFilesHoldTheFamilysOwnLayout) {
  for (const std::string kind : {"gemma", "phi3"}) {
    const auto raw = variant_model(kind, 7);
    std::map<std::string, at::Tensor> w(raw.weights.begin(), raw.weights.end());
    const std::string dir = testing::temp_dir("variant_layout_" + kind);
    save_hf_model(raw, dir);
    SafetensorsFile st(dir + "/model.safetensors");
    const std::string p = "model.layers.1.";
    if (kind == "gemma") {
      EXPECT_TRUE(at::allclose(st.get("model.norm.weight"), w["model.norm.weight"] - 1.0));
      EXPECT_TRUE(at::allclose(st.get(p + "input_layernorm.weight"),
                               w[p + "input_layernorm.weight"] - 1.0));
      EXPECT_FALSE(has_tensor(st, "lm_head.weight"));
    } else {
      EXPECT_FALSE(has_tensor(st, p + "self_attn.q_proj.weight"));
      EXPECT_TRUE(
          at::equal(st.get(p + "self_attn.qkv_proj.weight"),
                    at::cat({w[p + "self_attn.q_proj.weight"], w[p + "self_attn.k_proj.weight"],
                             w[p + "self_attn.v_proj.weight"]})));
      EXPECT_TRUE(at::equal(st.get(p + "mlp.gate_up_proj.weight"),
                            at::cat({w[p + "mlp.gate_proj.weight"], w[p + "mlp.up_proj.weight"]})));
    }
  }
  // A Phi-3 folder whose fused tensor has the wrong row count is refused by name.
  auto raw = variant_model("phi3", 8);
  const std::string dir = testing::temp_dir("variant_layout_bad_phi3");
  save_hf_model(raw, dir);
  SafetensorsFile st(dir + "/model.safetensors");
  std::vector<std::pair<std::string, torch::Tensor>> broken;
  for (const auto& name : st.names()) {
    auto t = st.get(name);
    if (name == "model.layers.0.self_attn.qkv_proj.weight") t = t.narrow(0, 0, t.size(0) - 2);
    broken.emplace_back(name, t);
  }
  save_safetensors(dir + "/model.safetensors", broken, {});
  try {
    read_hf_model(dir);
    ADD_FAILURE() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("model.layers.0.self_attn.qkv_proj.weight"),
              std::string::npos)
        << e.what();
  }
}

// A config.json Gemma release as published: hidden_act "gelu" means the tanh form (HF's
// fallback), hidden_activation wins when given, and the head is tied unless said otherwise.
TEST(LlamaVariants, GemmaConfigReadsAsHfDoes) {
  const std::string dir = testing::temp_dir("variant_gemma_config");
  const std::string base =
      R"("model_type": "gemma", "hidden_size": 64, "intermediate_size": 128,
         "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1,
         "head_dim": 32, "vocab_size": 16, "max_position_embeddings": 32)";
  auto read = [&](const std::string& extra) {
    std::ofstream(dir + "/config.json") << "{" << base << extra << "}";
    return load_llama_config(dir + "/config.json");
  };
  auto c = read(R"(, "hidden_act": "gelu")");
  EXPECT_EQ(c.hidden_act, "gelu_pytorch_tanh");
  EXPECT_DOUBLE_EQ(c.embedding_multiplier, 8.0);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(read(R"(, "hidden_act": "gelu", "hidden_activation": "gelu")").hidden_act, "gelu");
  EXPECT_FALSE(read(R"(, "tie_word_embeddings": false)").tie_word_embeddings);
  EXPECT_THROW(read(R"(, "hidden_activation": "relu")"), FormatError);
}

// Factors a GGUF's rope_freqs tensor gives have no config.json form: writing an HF folder of
// such a model is refused, before any file is written.
TEST(LlamaVariants, RopeFreqFactorsAreNotWrittenAsConfigJson) {
  const auto raw = variant_model("rope-freqs", 9);
  const std::string dir = testing::temp_dir("variant_rope_freqs");
  EXPECT_THROW(save_hf_model(raw, dir), InvalidArgument);
  EXPECT_FALSE(std::ifstream(dir + "/model.safetensors").good());
  auto bad = raw.config;
  bad.rope_freq_factors = {1.0f, 2.0f};  // head_dim 8 needs 4
  EXPECT_THROW(bad.validate("test"), InvalidArgument);
  bad.rope_freq_factors = {1.0f, 2.0f, 0.0f, 1.0f};
  EXPECT_THROW(bad.validate("test"), InvalidArgument);
}

TEST(LlamaVariants, SlidingWindowIsEnforcedNotIgnored) {
  auto c = variant("llama");
  c.model_type = "mistral";
  c.sliding_window = 6;
  const auto raw = random_model(c, 6);
  const LlamaModel model(raw.config, raw.weights);
  c10::InferenceMode guard;
  EXPECT_NO_THROW(model.forward(model.embed(at::ones({1, 6}, at::kLong)), {}));
  try {
    model.forward(model.embed(at::ones({1, 7}, at::kLong)), {});
    ADD_FAILURE() << "expected InvalidArgument";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("sliding window of 6"), std::string::npos) << e.what();
  }
}

TEST(LlamaVariants, UnsupportedConfigsAreNamed) {
  const std::string dir = testing::temp_dir("variant_bad");
  const std::string base =
      R"("hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
         "num_attention_heads": 4, "vocab_size": 16, "max_position_embeddings": 32)";
  auto expect = [&](const std::string& extra, const std::string& needle) {
    std::ofstream(dir + "/config.json") << "{" << base << extra << "}";
    try {
      load_llama_config(dir + "/config.json");
      ADD_FAILURE() << "expected FormatError for " << extra;
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect(R"(, "model_type": "gemma2")", "gemma2");
  expect(R"(, "hidden_act": "gelu")", "hidden_act");
  expect(R"(, "model_type": "phi3", "partial_rotary_factor": 0.75)", "partial_rotary_factor");
  expect(R"(, "model_type": "phi3", "rope_scaling": {"type": "longrope", "factor": 4})",
         "longrope");
  expect(R"(, "mlp_bias": true)", "mlp_bias");
  expect(R"(, "rope_scaling": {"rope_type": "yarn", "factor": 4})", "yarn");
  expect(R"(, "head_dim": -8)", "head_dim");
}

}  // namespace
}  // namespace pplug
