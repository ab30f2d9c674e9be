// The Llama family's variations (LlamaConfig): Qwen2's q/k/v biases, Qwen3's per-head q/k
// RMSNorm with an explicit head_dim, Llama's attention_bias, RoPE scaling (linear, llama3) and
// Mistral's sliding window. The model is checked against a plain re-implementation of HF's
// modeling code written here (naive attention, repeat_interleave for GQA, no fusion, no kernels).
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>

#include "pplug/error.h"
#include "pplug/model_io.h"
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
    x = x + at::matmul(at::silu(gate) * up, get(p + "mlp.down_proj.weight").t());
  }
  x = rms(x, get("model.norm.weight"), c.rms_norm_eps);
  const auto head = get(c.tie_word_embeddings ? "model.embed_tokens.weight" : "lm_head.weight");
  return at::matmul(x, head.t()).to(at::kFloat);
}

LlamaConfig variant(const std::string& kind) {
  auto c = testing::tiny_config(128);  // d 32, 2 layers, 4 heads, 2 kv heads
  c.model_type =
      kind == "llama-bias" || kind == "llama3-rope" || kind == "linear-rope" ? "llama" : kind;
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
  return c;
}

const std::vector<std::string> kKinds = {"qwen2", "qwen3", "llama-bias", "llama3-rope",
                                         "linear-rope"};

TEST(LlamaVariants, ForwardMatchesAPlainReimplementation) {
  const std::vector<int64_t> ids{1, 5, 9, 77, 3, 120, 64, 2, 11, 42, 100};
  for (const auto& kind : kKinds) {
    const auto raw = random_model(variant(kind), 3, 0.2);
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
    const auto raw = random_model(variant(kind), 4, 0.2);
    for (const char* type : {"f32", "bf16"}) {
      const LlamaModel model(raw.config, raw.weights, torch::kFloat32, kind, type);
      c10::InferenceMode guard;
      auto ids = at::tensor(std::vector<int64_t>{5, 9, 11, 40, 41, 42, 3}, at::kLong).unsqueeze(0);
      const auto full = model.forward(model.embed(ids), {}).logits;
      KVCache cache(model, 1, 8);
      model.forward(model.embed(ids.narrow(1, 0, 3)), {}, &cache);
      for (int64_t t = 3; t < 7; ++t) {
        const auto step = model.forward(model.embed(ids.narrow(1, t, 1)), {}, &cache).logits[0][0];
        EXPECT_TRUE(at::allclose(step, full[0][t], 1e-3, 1e-3))
            << kind << " " << type << " step " << t << ": "
            << (step - full[0][t]).abs().max().item<double>();
      }
    }
  }
}

TEST(LlamaVariants, HfFolderKeepsTheVariant) {
  for (const auto& kind : kKinds) {
    const auto raw = random_model(variant(kind), 5, 0.2);
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
    ModelLoadOptions options;
    options.load_tokenizer = false;
    const auto loaded = load_model(dir, options);
    const LlamaModel reference(raw.config, raw.weights);
    EXPECT_EQ(loaded.model->fingerprint(), reference.fingerprint()) << kind;
  }
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
  expect(R"(, "model_type": "gemma")", "gemma");
  expect(R"(, "hidden_act": "gelu")", "hidden_act");
  expect(R"(, "mlp_bias": true)", "mlp_bias");
  expect(R"(, "rope_scaling": {"rope_type": "yarn", "factor": 4})", "yarn");
  expect(R"(, "head_dim": -8)", "head_dim");
}

}  // namespace
}  // namespace pplug
