// Hugging Face folders, model-path resolution and random models.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <filesystem>
#include <set>

#include "format/gguf_metadata.h"
#include "format/safetensors_header.h"
#include "io/family_layout.h"
#include "io/hf_weights.h"
#include "io/llama2c_probe.h"
#include "pplug/error.h"
#include "pplug/model_io.h"
#include "pplug/safetensors.h"
#include "pplug/t5_io.h"
#include "util/file_io.h"
#include "util/log.h"

namespace pplug {
namespace fs = std::filesystem;

namespace {

std::vector<std::string> files_with_extension(const fs::path& dir, const std::string& ext) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ext) {
      out.push_back(entry.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string only_file(const fs::path& dir, const std::string& ext, const std::string& what) {
  const auto found = files_with_extension(dir, ext);
  if (found.size() == 1) return found[0];
  std::string msg = dir.string() + ": expected exactly one " + ext + " file (" + what +
                    "), found " + std::to_string(found.size());
  for (const auto& f : found) msg += "\n  " + f;
  throw FormatError(msg);
}

void read_safetensors_into(const std::string& file, const std::set<std::string>* only,
                           RawModel* raw) {
  SafetensorsFile st(file);
  for (const auto& name : st.names()) {
    if (only != nullptr && only->count(name) == 0) continue;
    const auto& info = st.info(name);
    if (info.dtype != "F32" && info.dtype != "F16" && info.dtype != "BF16") {
      throw FormatError(file + ": tensor '" + name + "' has dtype " + info.dtype +
                        ", expected F32, F16 or BF16");
    }
    raw->weights.emplace_back(name, st.get(name));
  }
}

// Copies a tokenizer into an HF folder under the name HF gives it: a SentencePiece model as
// tokenizer.model; a tokenizer.json (or its folder) as tokenizer.json, with the
// tokenizer_config.json beside it that names BOS/EOS.
void copy_tokenizer(const std::string& tokenizer_path, const fs::path& dir) {
  fs::path source(tokenizer_path);
  if (fs::is_directory(source)) {
    if (fs::is_regular_file(source / "tokenizer.json")) {
      source /= "tokenizer.json";
    } else if (fs::is_regular_file(source / "tokenizer.model")) {
      source /= "tokenizer.model";
    } else {
      throw FormatError(tokenizer_path +
                        ": folder holds neither tokenizer.json nor tokenizer.model");
    }
  }
  if (source.extension() == ".gguf") {
    throw InvalidArgument(source.string() +
                          ": a GGUF vocabulary cannot be copied into an HF folder; pass a "
                          "tokenizer.model or tokenizer.json");
  }
  if (source.extension() != ".json") {
    detail::write_file_atomic((dir / "tokenizer.model").string(),
                              detail::read_file(source.string()));
    return;
  }
  detail::write_file_atomic((dir / "tokenizer.json").string(), detail::read_file(source.string()));
  const fs::path config = source.parent_path() / "tokenizer_config.json";
  if (fs::is_regular_file(config)) {
    detail::write_file_atomic((dir / "tokenizer_config.json").string(),
                              detail::read_file(config.string()));
  }
}

}  // namespace

namespace detail {

std::vector<std::pair<std::string, torch::Tensor>> read_hf_weights(const std::string& dir) {
  const fs::path root(dir);
  RawModel raw;
  const auto single = root / "model.safetensors";
  const auto index = root / "model.safetensors.index.json";
  if (fs::exists(single)) {
    read_safetensors_into(single.string(), nullptr, &raw);
  } else if (fs::exists(index)) {
    const auto by_file =
        detail::parse_safetensors_index(detail::read_file(index.string()), index.string());
    for (const auto& [shard, names] : by_file) {
      RawModel part;
      read_safetensors_into((root / shard).string(), &names, &part);
      if (part.weights.size() != names.size()) {
        for (const auto& name : names) {
          bool present = false;
          for (const auto& w : part.weights) present = present || w.first == name;
          if (!present) {
            throw FormatError((root / shard).string() + ": missing tensor '" + name +
                              "' listed in " + index.string());
          }
        }
      }
      for (auto& w : part.weights) raw.weights.push_back(std::move(w));
    }
  } else {
    throw FormatError(dir + ": neither model.safetensors nor model.safetensors.index.json found");
  }
  return std::move(raw.weights);
}

}  // namespace detail

RawModel read_hf_model(const std::string& dir) {
  RawModel raw;
  raw.config = load_llama_config((fs::path(dir) / "config.json").string());
  raw.weights = detail::read_hf_weights(dir);
  detail::split_fused_projections(raw.config, &raw.weights, dir);
  detail::shift_norm_weights(raw.config, &raw.weights, +1.0);
  return raw;
}

void save_hf_model(const RawModel& model, const std::string& dir,
                   const std::string& tokenizer_path) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(dir + ": cannot create folder: " + ec.message());
  std::vector<std::pair<std::string, torch::Tensor>> weights;
  for (const auto& [name, t] : model.weights) {
    if (model.config.tie_word_embeddings && name == "lm_head.weight") continue;
    weights.emplace_back(name, t);
  }
  detail::shift_norm_weights(model.config, &weights, -1.0);
  weights = detail::fuse_projections(model.config, weights);
  // The config first: what has no config.json form is refused before any weights are written.
  save_llama_config(model.config, (fs::path(dir) / "config.json").string());
  save_safetensors((fs::path(dir) / "model.safetensors").string(), weights, {{"format", "pt"}});
  if (!tokenizer_path.empty()) copy_tokenizer(tokenizer_path, fs::path(dir));
}

RawModel random_model(const LlamaConfig& config, uint64_t seed, double init_std) {
  config.validate("random_model");
  auto gen = at::detail::createCPUGenerator(seed);
  const int64_t d = config.hidden_size, hd = config.head_dim(), hidden = config.intermediate_size;
  const int64_t q_dim = config.num_attention_heads * hd, kv = config.kv_dim();
  auto normal = [&](std::vector<int64_t> shape) {
    return at::normal(0.0, init_std, shape, gen, at::TensorOptions().dtype(at::kFloat));
  };
  RawModel raw;
  raw.config = config;
  auto& w = raw.weights;
  w.emplace_back("model.embed_tokens.weight", normal({config.vocab_size, d}));
  for (int64_t i = 0; i < config.num_hidden_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    w.emplace_back(p + "input_layernorm.weight", at::ones({d}));
    w.emplace_back(p + "self_attn.q_proj.weight", normal({q_dim, d}));
    w.emplace_back(p + "self_attn.k_proj.weight", normal({kv, d}));
    w.emplace_back(p + "self_attn.v_proj.weight", normal({kv, d}));
    w.emplace_back(p + "self_attn.o_proj.weight", normal({d, q_dim}));
    if (config.qkv_bias) {
      w.emplace_back(p + "self_attn.q_proj.bias", normal({q_dim}));
      w.emplace_back(p + "self_attn.k_proj.bias", normal({kv}));
      w.emplace_back(p + "self_attn.v_proj.bias", normal({kv}));
    }
    if (config.o_bias) w.emplace_back(p + "self_attn.o_proj.bias", normal({d}));
    if (config.qk_norm) {  // not all ones, so that q's and k's norms are told apart
      w.emplace_back(p + "self_attn.q_norm.weight", 1.0 + normal({hd}) * 10.0);
      w.emplace_back(p + "self_attn.k_norm.weight", 1.0 + normal({hd}) * 10.0);
    }
    w.emplace_back(p + "post_attention_layernorm.weight", at::ones({d}));
    w.emplace_back(p + "mlp.gate_proj.weight", normal({hidden, d}));
    w.emplace_back(p + "mlp.up_proj.weight", normal({hidden, d}));
    w.emplace_back(p + "mlp.down_proj.weight", normal({d, hidden}));
  }
  w.emplace_back("model.norm.weight", at::ones({d}));
  if (!config.tie_word_embeddings) {
    w.emplace_back("lm_head.weight", normal({config.vocab_size, d}));
  }
  return raw;
}

std::string find_tokenizer(const std::string& model_path) {
  const fs::path p(model_path);
  if (detail::is_gguf_file(model_path)) {
    const auto meta = detail::read_gguf_metadata(model_path);
    if (meta.find("tokenizer.ggml.tokens") == nullptr) {
      throw FormatError(model_path +
                        ": the GGUF file holds no vocabulary (tokenizer.ggml.tokens); "
                        "pass the tokenizer path");
    }
    return model_path;
  }
  if (fs::is_directory(p)) {
    // tokenizer.model first: folders that loaded before tokenizer.json was read keep their
    // tokenizer (Tokenizer(folder) itself prefers tokenizer.json, as HF transformers does).
    if (fs::exists(p / "tokenizer.model")) return (p / "tokenizer.model").string();
    if (fs::is_regular_file(p / "tokenizer.json")) return (p / "tokenizer.json").string();
    const auto models = files_with_extension(p, ".model");
    if (models.size() == 1) return models[0];
    std::string msg = p.string() +
                      ": no tokenizer found: looked for tokenizer.model, tokenizer.json, or "
                      "exactly one *.model file (found " +
                      std::to_string(models.size()) + "); or pass the tokenizer path";
    for (const auto& f : models) msg += "\n  " + f;
    throw FormatError(msg);
  }
  return only_file(p.has_parent_path() ? p.parent_path() : fs::path("."), ".model",
                   "the SentencePiece tokenizer beside " + p.filename().string() +
                       "; or pass the tokenizer path");
}

RawModel read_model(const std::string& path, std::string* weights_path_out) {
  const fs::path p(path);
  if (!fs::exists(p)) throw FormatError(path + ": no such file or folder");
  std::string weights_path = path;
  RawModel raw;
  if (fs::is_directory(p)) {
    if (fs::exists(p / "config.json")) {
      raw = read_hf_model(path);
    } else {
      // Only files whose header and size agree count: llama2.c's tokenizer export (tok512.bin)
      // often sits beside the checkpoint with the same extension.
      std::vector<std::string> checkpoints;
      for (const auto& f : files_with_extension(p, ".bin")) {
        if (detail::is_llama2c_checkpoint(f)) checkpoints.push_back(f);
      }
      if (checkpoints.size() != 1) {
        throw FormatError(
            path + ": expected config.json or exactly one llama2.c checkpoint (.bin), found " +
            std::to_string(checkpoints.size()) + " checkpoints");
      }
      weights_path = checkpoints.front();
      raw = read_llama2c(weights_path);
    }
  } else if (detail::is_gguf_file(path)) {
    raw = read_gguf_model(path);
  } else {
    raw = read_llama2c(path);
  }
  if (weights_path_out != nullptr) *weights_path_out = weights_path;
  return raw;
}

std::shared_ptr<const LanguageModel> language_model_of(const LoadedModel& llm) {
  if (llm.language_model) return llm.language_model;
  if (llm.model) return make_language_model(llm.model);
  return nullptr;
}

LoadedModel load_model(const std::string& path, const ModelLoadOptions& options) {
  if (is_t5_model(path)) {
    LoadedT5Model t5 = load_t5_model(path, options);
    LoadedModel out;
    out.tokenizer = std::move(t5.tokenizer);
    out.weights_path = std::move(t5.weights_path);
    out.language_model = make_language_model(std::move(t5.model));
    return out;
  }
  std::string weights_path;
  RawModel raw = read_model(path, &weights_path);
  // Quantized weights are used as stored unless another storage type is asked for.
  std::string weight_type = options.weight_type.empty() ? raw.stored_type : options.weight_type;
  if (!raw.quantized_type.empty() && weight_type != raw.quantized_type) {
    raw = dequantized(std::move(raw));
  }
  LoadedModel out;
  out.weights_path = weights_path;
  out.model = std::make_shared<const LlamaModel>(raw.config, raw.weights, options.dtype,
                                                 weights_path, weight_type);
  out.language_model = make_language_model(out.model);
  if (options.load_tokenizer) {
    const std::string tok =
        options.tokenizer_path.empty() ? find_tokenizer(path) : options.tokenizer_path;
    out.tokenizer = std::make_shared<const Tokenizer>(tok);
    // Qwen2.5/Qwen3 and Phi-3 pad the embedding beyond the tokenizer's ids (151936 rows for
    // 151669 ids): rows without a piece are never sampled (Generator::mask_unknown).
    if (out.tokenizer->vocab_size() > raw.config.vocab_size) {
      throw MismatchError(tok + ": tokenizer has " + std::to_string(out.tokenizer->vocab_size()) +
                          " pieces but the model " + weights_path + " has vocab_size " +
                          std::to_string(raw.config.vocab_size));
    }
  }
  return out;
}

}  // namespace pplug
