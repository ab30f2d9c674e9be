// pplug plugin-init: write a fresh, untrained plug-in folder for a model and encoder (random
// projector weights from --seed). Useful for examples and smoke tests, and as the trainer's start.
#include <nlohmann/json.hpp>

#include <cmath>
#include <iostream>
#include <memory>

#include "cli/cli_common.h"
#include "cli/commands.h"
#include "pplug/persona_plug.h"

namespace pplug::cli {
namespace {

struct PluginInitArgs {
  std::string model, tokenizer, encoder, out, aggregator = "attention", dtype = "f32";
  std::string placement = "after-bos", query_source = "encoder", input_encoder = "adapter";
  std::string scores = "cosine";
  PluginConfig config;
  bool no_persona = false, no_instruction = false;
  uint64_t seed = 0;
  int threads = 0;
};

void run_plugin_init(const PluginInitArgs& a) {
  set_threads(a.threads);
  const auto llm = load_cli_model(a.model, a.tokenizer, a.dtype);
  PluginConfig config = a.config;
  config.use_persona = !a.no_persona;
  config.use_instruction = !a.no_instruction;
  config.aggregator = parse_aggregator(a.aggregator);
  config.scores = parse_attention_scores(a.scores);
  config.placement = parse_placement(a.placement);
  config.query_source = parse_query_source(a.query_source);
  config.input_encoder = parse_input_encoder(a.input_encoder);
  PersonaPlug plug(llm, load_sentence_encoder(a.encoder, llm), config, a.seed);
  plug.save(a.out);
  const nlohmann::json summary = {{"out", a.out},
                                  {"task", plug.config().task},
                                  {"encoder", plug.encoder().kind()},
                                  {"encoder_dim", plug.config().encoder_dim},
                                  {"llm_dim", plug.config().llm_dim},
                                  {"soft_token_scale", plug.soft_token_scale()},
                                  {"fingerprint", plug.fingerprint()}};
  std::cout << summary.dump() << "\n";
}

}  // namespace

void register_plugin_init(CLI::App& app) {
  auto args = std::make_shared<PluginInitArgs>();
  auto& c = args->config;
  auto* cmd = app.add_subcommand("plugin-init", "Write a fresh (untrained) plug-in folder");
  add_llm_options(cmd, args->model, args->tokenizer, args->encoder);
  cmd->add_option("--task", c.task, "LaMP task the plug-in serves (LaMP_1..LaMP_7)")->required();
  cmd->add_option("--out", args->out, "Plug-in folder to write (atomically)")->required();
  cmd->add_option("--persona-tokens", c.num_persona_tokens, "Persona soft tokens")
      ->capture_default_str()
      ->check(int_in(1, limits::kMaxSoftTokens));
  cmd->add_flag("--no-persona", args->no_persona, "Ablation: no persona token");
  cmd->add_flag("--no-instruction", args->no_instruction, "Ablation: no instruction token");
  cmd->add_option("--aggregator", args->aggregator, "attention, learned-temperature or mean")
      ->capture_default_str();
  cmd->add_option("--temperature", c.temperature, "Attention temperature (initial when learned)")
      ->capture_default_str()
      ->check(real_in(0, HUGE_VAL, /*lo_open=*/true));
  cmd->add_option("--scores", args->scores,
                  "Attention logits: cosine (reference) | standardized (over the user's items)")
      ->capture_default_str();
  cmd->add_option("--top-k", c.top_k, "Aggregate only the k most similar items (0 = all)")
      ->capture_default_str()
      ->check(int_in(0, limits::kMaxItems));
  cmd->add_option("--max-history", c.max_history, "Most recent history items kept per user")
      ->capture_default_str()
      ->check(int_in(1, limits::kMaxItems));
  cmd->add_option("--item-template", c.item_template,
                  "History item template with {field} placeholders (default: the task's)");
  cmd->add_option("--answer-prefix", c.answer_prefix, "Text between the input and the answer");
  cmd->add_option("--placement", args->placement,
                  "Soft tokens after-bos (reference) or before-answer (just before the cue)")
      ->capture_default_str();
  cmd->add_option("--query-source", args->query_source,
                  "encoder (the input encoded apart) | prompt (the LLM's reading of the prompt)")
      ->capture_default_str();
  cmd->add_option("--input-encoder", args->input_encoder,
                  "adapter (frozen + small adapter) | copy (full trainable copy of a BERT encoder)")
      ->capture_default_str();
  cmd->add_option("--max-input-tokens", c.max_input_tokens,
                  "LLM tokens of the task input at most (longer inputs keep their end)")
      ->capture_default_str()
      ->check(int_in(1, limits::kMaxPromptTokens));
  cmd->add_option("--seed", args->seed, "Seed of the random initial weights")
      ->capture_default_str();
  add_threads_option(cmd, args->threads);
  cmd->add_option("--dtype", args->dtype, kDtypeHelp)->capture_default_str();
  cmd->callback([args] { run_plugin_init(*args); });
}

}  // namespace pplug::cli
