// pplug random-model: a random-weight Llama (or FlanT5-layout T5) of a given shape, for
// benchmarks without downloads.
#include <iostream>
#include <memory>

#include "cli/cli_common.h"
#include "cli/commands.h"
#include "pplug/error.h"
#include "pplug/model_io.h"
#include "pplug/t5_io.h"

namespace pplug::cli {
namespace {
// About 20 billion float32 parameters (80 GB): beyond any model pplug runs.
constexpr int64_t kMaxRandomParams = 20'000'000'000;

// A FlanT5-layout T5 (gated-GELU, untied head) of the Llama flags' shape: --dim d_model,
// --hidden d_ff, --layers blocks per stack, --heads heads of --head-dim (or dim / heads).
T5Config t5_shape(const LlamaConfig& c, const Tokenizer* tokenizer) {
  T5Config t;
  t.d_model = c.hidden_size;
  t.d_ff = c.intermediate_size;
  t.num_layers = c.num_hidden_layers;
  t.num_decoder_layers = c.num_hidden_layers;
  t.num_heads = c.num_attention_heads;
  t.d_kv = c.explicit_head_dim > 0 ? c.explicit_head_dim : c.hidden_size / c.num_attention_heads;
  t.vocab_size = c.vocab_size;
  t.feed_forward_proj = "gated-gelu";
  t.tie_word_embeddings = false;
  if (tokenizer != nullptr && tokenizer->eos_id() >= 0) t.eos_token_id = tokenizer->eos_id();
  if (tokenizer != nullptr && tokenizer->pad_id() >= 0) {
    t.pad_token_id = tokenizer->pad_id();
    t.decoder_start_token_id = tokenizer->pad_id();
  }
  t.validate("random-model");
  return t;
}
}  // namespace

void register_random_model(CLI::App& app) {
  struct Args {
    LlamaConfig config;
    std::string format = "llama2c", out, tokenizer;
    uint64_t seed = 0;
    double init_std = 0.02;
  };
  auto args = std::make_shared<Args>();
  args->config.hidden_size = 288;
  args->config.intermediate_size = 768;
  args->config.num_hidden_layers = 6;
  args->config.num_attention_heads = 6;
  args->config.num_key_value_heads = 0;
  args->config.vocab_size = 32000;
  args->config.max_position_embeddings = 256;
  args->config.tie_word_embeddings = true;
  auto* cmd = app.add_subcommand("random-model", "Write a random-weight Llama model");
  cmd->add_option("--dim", args->config.hidden_size, "hidden_size")
      ->capture_default_str()
      ->check(int_in(2, 1 << 16));
  cmd->add_option("--hidden", args->config.intermediate_size, "intermediate_size")
      ->capture_default_str()
      ->check(int_in(1, 1 << 18));
  cmd->add_option("--layers", args->config.num_hidden_layers, "layers")
      ->capture_default_str()
      ->check(int_in(1, 1024));
  cmd->add_option("--heads", args->config.num_attention_heads, "attention heads")
      ->capture_default_str()
      ->check(int_in(1, 1024));
  cmd->add_option("--kv-heads", args->config.num_key_value_heads, "key/value heads (0 = heads)")
      ->check(int_in(0, 1024));
  cmd->add_option("--vocab", args->config.vocab_size, "vocab_size")
      ->capture_default_str()
      ->check(int_in(1, 1 << 22));
  cmd->add_option("--seq-len", args->config.max_position_embeddings, "max positions")
      ->capture_default_str()
      ->check(int_in(1, 1 << 20));
  cmd->add_option("--model-type", args->config.model_type,
                  "llama, mistral, qwen2 (q/k/v biases), qwen3 (q/k norms; see --head-dim), "
                  "gemma (GeGLU, scaled embeddings, tied head), phi3 (fused projections in "
                  "files) or t5 (FlanT5 layout, --layers per stack; --format hf)")
      ->capture_default_str()
      ->check(CLI::IsMember({"llama", "mistral", "qwen2", "qwen3", "gemma", "phi3", "t5"}));
  cmd->add_option("--head-dim", args->config.explicit_head_dim,
                  "head size when not dim / heads (Qwen3 style; 0 = dim / heads)")
      ->check(int_in(0, 1024));
  cmd->add_option("--init-std", args->init_std, "standard deviation of the random matrices")
      ->capture_default_str()
      ->check(real_in(1e-6, 10.0));
  cmd->add_option("--seed", args->seed, "Seed");
  cmd->add_option("--format", args->format, "llama2c, hf or gguf (f32)")->capture_default_str();
  cmd->add_option("--tokenizer", args->tokenizer,
                  "Tokenizer to copy into an HF folder: SentencePiece .model or tokenizer.json (or "
                  "its folder; a GGUF vocab cannot be copied)");
  cmd->add_option("--out", args->out, "Output .bin (llama2c) or folder (hf)")->required();
  cmd->callback([args] {
    LlamaConfig c = args->config;
    if (c.num_key_value_heads == 0) c.num_key_value_heads = c.num_attention_heads;
    if (c.model_type != "t5") c.set_family_defaults();
    if (args->format == "llama2c" && (c.model_type != "llama" || c.explicit_head_dim > 0)) {
      throw InvalidArgument(
          "random-model: a " + c.model_type +
          " model (or --head-dim) needs --format hf (llama2.c holds plain Llama)");
    }
    // Every flag is bounded; their product is bounded too (the weights are built in memory).
    const int64_t per_layer =
        2 * c.hidden_size * c.hidden_size + 3 * c.hidden_size * c.intermediate_size;
    const int64_t params = c.num_hidden_layers * per_layer + 2 * c.vocab_size * c.hidden_size;
    if (params > kMaxRandomParams) {
      throw InvalidArgument("random-model: --dim " + std::to_string(c.hidden_size) + ", --hidden " +
                            std::to_string(c.intermediate_size) + ", --layers " +
                            std::to_string(c.num_hidden_layers) + ", --vocab " +
                            std::to_string(c.vocab_size) + " make about " + std::to_string(params) +
                            " parameters, more than the limit of " +
                            std::to_string(kMaxRandomParams));
    }
    if (args->format == "hf") check_new_output_folder("--out", args->out);
    if (c.model_type == "t5") {
      if (args->format != "hf") {
        throw InvalidArgument("random-model: a t5 model needs --format hf, got '" + args->format +
                              "'");
      }
      const auto& path = args->tokenizer;
      if (!path.empty() && (path.size() < 6 || path.compare(path.size() - 6, 6, ".model") != 0)) {
        throw InvalidArgument(
            "random-model: a t5 folder holds a SentencePiece spiece.model; "
            "--tokenizer " +
            path + " is not a .model file");
      }
      std::unique_ptr<Tokenizer> tokenizer;
      if (!args->tokenizer.empty()) tokenizer = std::make_unique<Tokenizer>(args->tokenizer);
      if (tokenizer && tokenizer->vocab_size() > c.vocab_size) {
        throw InvalidArgument("random-model: --tokenizer has " +
                              std::to_string(tokenizer->vocab_size()) +
                              " pieces, more than --vocab " + std::to_string(c.vocab_size));
      }
      save_hf_t5_model(random_t5_model(t5_shape(c, tokenizer.get()), args->seed, args->init_std),
                       args->out, args->tokenizer);
      std::cout << "wrote " << args->out << "\n";
      return;
    }
    const auto raw = random_model(c, args->seed, args->init_std);
    if (args->format == "llama2c") {
      save_llama2c(raw, args->out);
    } else if (args->format == "hf") {
      save_hf_model(raw, args->out, args->tokenizer);
    } else if (args->format == "gguf") {
      check_new_output_file("--out", args->out);
      save_gguf_model(raw, args->out, "f32", args->tokenizer);
    } else {
      throw InvalidArgument("--format must be llama2c, hf or gguf, got '" + args->format + "'");
    }
    std::cout << "wrote " << args->out << "\n";
  });
}

}  // namespace pplug::cli
