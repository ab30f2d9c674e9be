// T5 from HF folders: config.json (model_type "t5") and safetensors; writing such folders;
// random T5 models; and load_t5_model, which picks the reader for a path.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "format/gguf_metadata.h"
#include "io/hf_weights.h"
#include "pplug/error.h"
#include "pplug/safetensors.h"
#include "pplug/t5_io.h"
#include "util/file_io.h"

namespace pplug {
namespace fs = std::filesystem;

bool is_t5_model(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    const fs::path config = fs::path(path) / "config.json";
    if (!fs::is_regular_file(config, ec)) return false;
    try {
      const auto j = nlohmann::json::parse(detail::read_file(config.string()));
      return j.is_object() && j.contains("model_type") && j["model_type"] == "t5";
    } catch (const std::exception&) {
      return false;
    }
  }
  if (!detail::is_gguf_file(path)) return false;
  try {
    const auto meta = detail::read_gguf_metadata(path);
    const auto* arch = meta.find("general.architecture");
    return arch != nullptr && arch->type == detail::GgufType::kString && arch->text == "t5";
  } catch (const std::exception&) {
    return false;
  }
}

RawT5Model read_hf_t5_model(const std::string& dir) {
  RawT5Model raw;
  raw.config = load_t5_config((fs::path(dir) / "config.json").string());
  raw.weights = detail::read_hf_weights(dir);
  return raw;
}

LoadedT5Model load_t5_model(const std::string& path, const ModelLoadOptions& options) {
  if (!fs::exists(path)) throw FormatError(path + ": no such file or folder");
  const std::string wanted_type = options.dtype == torch::kBFloat16 ? "bf16" : "f32";
  if (!options.weight_type.empty() && options.weight_type != wanted_type) {
    throw InvalidArgument(path +
                          ": T5 models hold their weights in the compute dtype; weight type '" +
                          options.weight_type + "' is not supported (use " + wanted_type + ")");
  }
  const RawT5Model raw = fs::is_directory(path) ? read_hf_t5_model(path) : read_gguf_t5_model(path);
  LoadedT5Model out;
  out.weights_path = path;
  out.model = std::make_shared<const T5Model>(raw.config, raw.weights, options.dtype, path);
  if (options.load_tokenizer) {
    const std::string tok =
        options.tokenizer_path.empty() ? find_tokenizer(path) : options.tokenizer_path;
    out.tokenizer = std::make_shared<const Tokenizer>(tok);
    if (out.tokenizer->vocab_size() > raw.config.vocab_size) {
      throw MismatchError(tok + ": tokenizer has " + std::to_string(out.tokenizer->vocab_size()) +
                          " pieces but the model " + path + " has vocab_size " +
                          std::to_string(raw.config.vocab_size));
    }
  }
  return out;
}

void save_hf_t5_model(const RawT5Model& model, const std::string& dir,
                      const std::string& tokenizer_path) {
  model.config.validate(dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(dir + ": cannot create folder: " + ec.message());
  const auto& c = model.config;
  const nlohmann::json j = {{"architectures", {"T5ForConditionalGeneration"}},
                            {"model_type", "t5"},
                            {"d_model", c.d_model},
                            {"d_kv", c.d_kv},
                            {"d_ff", c.d_ff},
                            {"num_layers", c.num_layers},
                            {"num_decoder_layers", c.num_decoder_layers},
                            {"num_heads", c.num_heads},
                            {"vocab_size", c.vocab_size},
                            {"relative_attention_num_buckets", c.relative_attention_num_buckets},
                            {"relative_attention_max_distance", c.relative_attention_max_distance},
                            {"layer_norm_epsilon", c.layer_norm_epsilon},
                            {"feed_forward_proj", c.feed_forward_proj},
                            {"tie_word_embeddings", c.tie_word_embeddings},
                            {"pad_token_id", c.pad_token_id},
                            {"eos_token_id", c.eos_token_id},
                            {"decoder_start_token_id", c.decoder_start_token_id}};
  save_safetensors((fs::path(dir) / "model.safetensors").string(), model.weights,
                   {{"format", "pt"}});
  detail::write_file_atomic((fs::path(dir) / "config.json").string(), j.dump(2) + "\n");
  if (!tokenizer_path.empty()) {
    detail::write_file_atomic((fs::path(dir) / "spiece.model").string(),
                              detail::read_file(tokenizer_path));
  }
}

RawT5Model random_t5_model(const T5Config& config, uint64_t seed, double init_std) {
  config.validate("random_t5_model");
  auto gen = at::detail::createCPUGenerator(seed);
  const int64_t d = config.d_model, inner = config.inner_dim(), ff = config.d_ff;
  auto normal = [&](std::vector<int64_t> shape) {
    return at::normal(0.0, init_std, shape, gen, at::TensorOptions().dtype(at::kFloat));
  };
  RawT5Model raw;
  raw.config = config;
  auto& w = raw.weights;
  // A larger embedding scale than the matrices: T5's embeddings are O(1) per entry.
  w.emplace_back("shared.weight", normal({config.vocab_size, d}) * 20.0);
  auto attention = [&](const std::string& p, const char* kind) {
    for (const char* m : {"q", "k", "v"}) {
      w.emplace_back(p + kind + "." + m + ".weight", normal({inner, d}));
    }
    w.emplace_back(p + kind + ".o.weight", normal({d, inner}));
  };
  auto ffn = [&](const std::string& p) {
    w.emplace_back(p + "layer_norm.weight", at::ones({d}));
    if (config.gated()) {
      w.emplace_back(p + "DenseReluDense.wi_0.weight", normal({ff, d}));
      w.emplace_back(p + "DenseReluDense.wi_1.weight", normal({ff, d}));
    } else {
      w.emplace_back(p + "DenseReluDense.wi.weight", normal({ff, d}));
    }
    w.emplace_back(p + "DenseReluDense.wo.weight", normal({d, ff}));
  };
  const std::vector<int64_t> table{config.relative_attention_num_buckets, config.num_heads};
  for (int64_t i = 0; i < config.num_layers; ++i) {
    const std::string p = "encoder.block." + std::to_string(i) + ".layer.";
    w.emplace_back(p + "0.layer_norm.weight", at::ones({d}));
    attention(p + "0.", "SelfAttention");
    if (i == 0) {
      w.emplace_back(p + "0.SelfAttention.relative_attention_bias.weight", normal(table) * 20.0);
    }
    ffn(p + "1.");
  }
  w.emplace_back("encoder.final_layer_norm.weight", at::ones({d}));
  for (int64_t i = 0; i < config.num_decoder_layers; ++i) {
    const std::string p = "decoder.block." + std::to_string(i) + ".layer.";
    w.emplace_back(p + "0.layer_norm.weight", at::ones({d}));
    attention(p + "0.", "SelfAttention");
    if (i == 0) {
      w.emplace_back(p + "0.SelfAttention.relative_attention_bias.weight", normal(table) * 20.0);
    }
    w.emplace_back(p + "1.layer_norm.weight", at::ones({d}));
    attention(p + "1.", "EncDecAttention");
    ffn(p + "2.");
  }
  w.emplace_back("decoder.final_layer_norm.weight", at::ones({d}));
  if (!config.tie_word_embeddings) w.emplace_back("lm_head.weight", normal({config.vocab_size, d}));
  return raw;
}

}  // namespace pplug
