#include "cli/train_args.h"

#include "cli/cli_common.h"
#include "pplug/error.h"
#include "pplug/lamp_data.h"
#include "pplug/lamp_metrics.h"
#include "pplug/training_recipe.h"

namespace pplug::cli {
namespace {

constexpr const char* kEpochsHelp = "Passes over the training set (default: from --recipe)";

}  // namespace

std::vector<std::string> apply_recipe(const CLI::App& cmd, TrainArgs& a, const LoadedModel& llm) {
  const TrainingRecipe r = training_recipe(parse_recipe(a.recipe), llm, a.task);
  const auto unset = [&cmd](const char* flag) { return cmd.count(flag) == 0; };
  if (unset("--encoder")) a.encoder = r.encoder;
  if (unset("--epochs")) a.options.epochs = r.options.epochs;
  if (unset("--lr")) a.options.lr = r.options.lr;
  if (unset("--history-dropout-copies"))
    a.options.history_dropout_copies = r.options.history_dropout_copies;
  if (unset("--aggregator")) a.aggregator = to_string(r.config.aggregator);
  if (unset("--temperature")) a.temperature = r.config.temperature;
  if (unset("--scores")) a.scores = to_string(r.config.scores);
  if (unset("--persona-tokens")) a.persona_tokens = r.config.num_persona_tokens;
  if (unset("--placement")) a.placement = to_string(r.config.placement);
  if (unset("--no-eos") && unset("--eos")) a.no_eos = !r.config.end_with_eos;
  return r.reasons;
}

PluginConfig plugin_config(const TrainArgs& a, lamp::Task task) {
  PluginConfig config;
  config.task = lamp::task_name(task);
  config.num_persona_tokens = a.persona_tokens;
  config.use_persona = !a.no_persona;
  config.use_instruction = !a.no_instruction;
  config.aggregator = parse_aggregator(a.aggregator);
  config.top_k = a.top_k;
  config.temperature = a.temperature;
  config.scores = parse_attention_scores(a.scores);
  config.placement = parse_placement(a.placement);
  config.end_with_eos = !a.no_eos;
  config.query_source = parse_query_source(a.query_source);
  config.input_encoder = parse_input_encoder(a.input_encoder);
  config.max_history = a.max_history;
  return config;
}

void add_train_options(CLI::App* cmd, TrainArgs& a) {
  add_llm_options(cmd, a.model, a.tokenizer, a.encoder);
  cmd->add_option("--task", a.task, "LaMP task, e.g. LaMP_2")->required();
  cmd->add_option("--train-questions", a.train_questions, "Training questions")->required();
  cmd->add_option("--train-outputs", a.train_outputs, "Training golds")->required();
  cmd->add_option("--dev-questions", a.dev_questions, "Dev questions (evaluated each epoch)");
  cmd->add_option("--dev-outputs", a.dev_outputs, "Dev golds");
  cmd->add_option("--out", a.out, "Output folder (best/, last/, metrics.jsonl)")->required();
  cmd->add_option("--recipe", a.recipe,
                  "Starting settings, each overridden by its flag: auto (input-aware, tuned to "
                  "the model) | input-aware | reference (the paper's)")
      ->capture_default_str();
  cmd->add_option("--epochs", a.options.epochs, kEpochsHelp)->check(int_in(1, limits::kMaxEpochs));
  cmd->add_option("--lr", a.options.lr, "AdamW peak learning rate (default: from --recipe)")
      ->check(real_in(0, 10, /*lo_open=*/true));
  cmd->add_option("--weight-decay", a.options.weight_decay)
      ->capture_default_str()
      ->check(real_in(0, 10));
  cmd->add_option("--batch-size", a.options.batch_size)
      ->capture_default_str()
      ->check(int_in(1, limits::kMaxBatch));
  cmd->add_option("--grad-accum", a.options.grad_accum)
      ->capture_default_str()
      ->check(int_in(1, limits::kMaxGradAccum));
  cmd->add_option("--seed", a.options.seed)->capture_default_str();
  cmd->add_option("--history-dropout-copies", a.options.history_dropout_copies,
                  "Extra copies with part of the history dropped (default: from --recipe; the "
                  "reference code uses 10)")
      ->check(int_in(0, limits::kMaxCopies));
  cmd->add_option("--prefix-cache-mb", a.options.prefix_cache_mb,
                  "Memory for the frozen keys/values of the prompts' starts, computed once for "
                  "the run (0 = recompute them each step)")
      ->capture_default_str()
      ->check(int_in(0, 1 << 20));
  add_threads_option(cmd, a.threads);
  cmd->add_option("--dtype", a.dtype, kDtypeHelp)->capture_default_str();
  cmd->add_flag("--no-persona", a.no_persona, "Ablation: no persona token");
  cmd->add_flag("--no-instruction", a.no_instruction, "Ablation: no instruction token");
  cmd->add_option("--aggregator", a.aggregator,
                  "attention | learned-temperature | mean (default: from --recipe)");
  cmd->add_option("--temperature", a.temperature,
                  "Attention temperature T, initial when learned (default: from --recipe)")
      ->check(real_in(1e-3, 1e3));
  cmd->add_option("--scores", a.scores,
                  "Attention logits: cosine (reference) | standardized (cosines standardized "
                  "over the user's items, then / T) (default: from --recipe)");
  cmd->add_option("--persona-tokens", a.persona_tokens,
                  "Persona soft tokens (default: from --recipe)")
      ->check(int_in(1, limits::kMaxSoftTokens));
  cmd->add_option("--top-k", a.top_k, "Aggregate only the k most similar items (0 = all)")
      ->check(int_in(0, limits::kMaxItems));
  cmd->add_option("--max-history", a.max_history, "Most recent items per user")
      ->capture_default_str()
      ->check(int_in(1, limits::kMaxItems));
  cmd->add_option(
      "--placement", a.placement,
      "Soft tokens after BOS (reference) or before the answer cue: after-bos | before-answer "
      "(default: from --recipe)");
  cmd->add_option("--query-source", a.query_source,
                  "What the aggregator compares items with: encoder (the input encoded apart) | "
                  "prompt (the LLM's reading of the prompt; no extra pass; needs before-answer "
                  "and the LLM as encoder)")
      ->capture_default_str();
  cmd->add_option("--input-encoder", a.input_encoder,
                  "adapter (frozen encoder + small adapter) | copy (a full trainable copy of the "
                  "BERT --encoder, as the reference)")
      ->capture_default_str();
  auto* no_eos = cmd->add_flag(
      "--no-eos", a.no_eos,
      "Targets without a closing EOS (LLMs that never saw EOS, e.g. TinyStories; the default "
      "for llama2.c checkpoints)");
  cmd->add_flag("--eos", a.eos, "Targets end with EOS (the default for other models)")
      ->excludes(no_eos);
  cmd->add_option("--resume", a.resume, "Continue from OUT/last of an interrupted run");
  cmd->add_option("--stop-at-step", a.options.stop_at_step,
                  "Stop like Ctrl-C (saving OUT/last) once the run has taken this many optimizer "
                  "steps in all; resume later with --resume")
      ->check(int_in(1, int64_t{1} << 40));
  cmd->add_flag(
      "--no-progress", [&a](int64_t) { a.options.progress_bar = false; },
      "Plain log lines instead of a progress bar");
}

}  // namespace pplug::cli
