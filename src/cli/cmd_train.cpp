// pplug train: learn a Persona-Plug plug-in over a frozen LLM.
#include <csignal>
#include <iostream>
#include <memory>
#include <set>

#include <nlohmann/json.hpp>

#include "cli/cli_common.h"
#include "cli/commands.h"
#include "pplug/error.h"
#include "pplug/evaluator.h"
#include "pplug/lamp_data.h"
#include "pplug/lamp_metrics.h"
#include "pplug/trainer.h"

namespace pplug::cli {
namespace {

struct TrainArgs {
  std::string model, tokenizer, encoder, task, train_questions, train_outputs, dev_questions,
      dev_outputs, out, resume, aggregator = "attention", dtype = "f32", placement = "after-bos",
                                query_source = "encoder", input_encoder = "adapter",
                                scores = "cosine";
  TrainOptions options;
  int threads = 0, persona_tokens = 1, top_k = 0, max_history = 512;
  double temperature = 1.0;
  bool no_persona = false, no_instruction = false, no_eos = false;
};

LabelledSplit read_split(const std::string& questions, const std::string& outputs,
                         lamp::Task task) {
  LabelledSplit split;
  lamp::QuestionsReadOptions ro;
  ro.task = task;
  split.questions = lamp::read_questions(questions, ro);
  const auto golds = lamp::read_outputs(outputs);
  if (!golds.task.empty() && lamp::parse_task(golds.task) != task) {
    throw MismatchError(outputs + ": task is " + golds.task + ", but --task is " +
                        lamp::task_name(task));
  }
  split.golds = golds.golds;
  lamp::check_golds(task, split.golds, outputs);  // what `score` would refuse
  // The official scorer requires equal id sets; training does too, to catch mixed-up files.
  std::set<std::string> q_ids, g_ids;
  for (const auto& q : split.questions) q_ids.insert(q.id);
  for (const auto& g : split.golds) g_ids.insert(g.id);
  if (q_ids != g_ids) {
    std::string diff;
    int shown = 0;
    for (const auto& id : q_ids) {
      if (!g_ids.count(id) && shown++ < 5) diff += " " + id + " (no gold)";
    }
    for (const auto& id : g_ids) {
      if (!q_ids.count(id) && shown++ < 5) diff += " " + id + " (no question)";
    }
    throw MismatchError(questions + " and " + outputs + " have different ids:" + diff);
  }
  return split;
}

void on_sigint(int) { request_training_stop(); }

void run_train(TrainArgs& a) {
  set_threads(a.threads);
  const lamp::Task task = lamp::parse_task(a.task);
  const auto train = read_split(a.train_questions, a.train_outputs, task);
  LabelledSplit dev;
  const bool has_dev = !a.dev_questions.empty();
  if (has_dev) {
    if (a.dev_outputs.empty()) throw InvalidArgument("--dev-questions needs --dev-outputs");
    dev = read_split(a.dev_questions, a.dev_outputs, task);
  }
  const auto llm = load_cli_model(a.model, a.tokenizer, a.dtype);
  const auto encoder = load_sentence_encoder(a.encoder, llm);
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
  PersonaPlug plug(llm, encoder, config, a.options.seed);
  a.options.out_dir = a.out;
  DevEvaluator dev_eval;
  if (has_dev) {
    dev_eval = [&](const PersonaPlug& p) {
      EvalOptions eo;
      eo.method = EvalMethod::kPplug;
      eo.generation = default_generation_options(task);
      eo.generation.num_beams = 1;  // dev selection: greedy is enough and much cheaper
      eo.progress_bar = false;
      const auto preds = predict(llm, &p, task, dev.questions, eo);
      return primary_metric(task, lamp::score(task, dev.golds, preds));
    };
  }
  std::signal(SIGINT, on_sigint);
  std::signal(SIGTERM, on_sigint);
  const auto summary = train_plugin(plug, train, a.options, dev_eval, a.resume);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  nlohmann::json j = {{"steps", summary.steps},
                      {"first_loss", summary.first_loss},
                      {"last_loss", summary.last_loss},
                      {"examples_per_s", summary.examples_per_second},
                      {"interrupted", summary.interrupted},
                      {"best", a.out + "/best"}};
  if (has_dev) j["best_dev"] = summary.best_dev;
  std::cout << j.dump() << "\n";
  if (summary.interrupted)
    throw Error("training interrupted; resume with --resume " + a.out + "/last");
}

}  // namespace

void register_train(CLI::App& app) {
  auto a = std::make_shared<TrainArgs>();
  auto* cmd = app.add_subcommand("train", "Train a Persona-Plug plug-in (the LLM stays frozen)");
  add_llm_options(cmd, a->model, a->tokenizer, a->encoder);
  cmd->add_option("--task", a->task, "LaMP task, e.g. LaMP_2")->required();
  cmd->add_option("--train-questions", a->train_questions, "Training questions")->required();
  cmd->add_option("--train-outputs", a->train_outputs, "Training golds")->required();
  cmd->add_option("--dev-questions", a->dev_questions, "Dev questions (evaluated each epoch)");
  cmd->add_option("--dev-outputs", a->dev_outputs, "Dev golds");
  cmd->add_option("--out", a->out, "Output folder (best/, last/, metrics.jsonl)")->required();
  cmd->add_option("--epochs", a->options.epochs)
      ->capture_default_str()
      ->check(int_in(1, limits::kMaxEpochs));
  cmd->add_option("--lr", a->options.lr, "AdamW peak learning rate")
      ->capture_default_str()
      ->check(real_in(0, 10, /*lo_open=*/true));
  cmd->add_option("--weight-decay", a->options.weight_decay)
      ->capture_default_str()
      ->check(real_in(0, 10));
  cmd->add_option("--batch-size", a->options.batch_size)
      ->capture_default_str()
      ->check(int_in(1, limits::kMaxBatch));
  cmd->add_option("--grad-accum", a->options.grad_accum)
      ->capture_default_str()
      ->check(int_in(1, limits::kMaxGradAccum));
  cmd->add_option("--seed", a->options.seed)->capture_default_str();
  cmd->add_option("--history-dropout-copies", a->options.history_dropout_copies,
                  "Extra copies with part of the history dropped (reference: 10)")
      ->check(int_in(0, limits::kMaxCopies));
  cmd->add_option("--prefix-cache-mb", a->options.prefix_cache_mb,
                  "Memory for the frozen keys/values of the prompts' starts, computed once for "
                  "the run (0 = recompute them each step)")
      ->capture_default_str()
      ->check(int_in(0, 1 << 20));
  add_threads_option(cmd, a->threads);
  cmd->add_option("--dtype", a->dtype, kDtypeHelp)->capture_default_str();
  cmd->add_flag("--no-persona", a->no_persona, "Ablation: no persona token");
  cmd->add_flag("--no-instruction", a->no_instruction, "Ablation: no instruction token");
  cmd->add_option("--aggregator", a->aggregator, "attention | learned-temperature | mean")
      ->capture_default_str();
  cmd->add_option("--temperature", a->temperature, "Attention temperature T (initial when learned)")
      ->capture_default_str()
      ->check(real_in(1e-3, 1e3));
  cmd->add_option("--scores", a->scores,
                  "Attention logits: cosine (reference) | standardized (cosines standardized "
                  "over the user's items, then / T)")
      ->capture_default_str();
  cmd->add_option("--persona-tokens", a->persona_tokens, "Persona soft tokens")
      ->capture_default_str()
      ->check(int_in(1, limits::kMaxSoftTokens));
  cmd->add_option("--top-k", a->top_k, "Aggregate only the k most similar items (0 = all)")
      ->check(int_in(0, limits::kMaxItems));
  cmd->add_option("--max-history", a->max_history, "Most recent items per user")
      ->capture_default_str()
      ->check(int_in(1, limits::kMaxItems));
  cmd->add_option(
         "--placement", a->placement,
         "Soft tokens after BOS (reference) or before the answer cue: after-bos | before-answer")
      ->capture_default_str();
  cmd->add_option("--query-source", a->query_source,
                  "What the aggregator compares items with: encoder (the input encoded apart) | "
                  "prompt (the LLM's reading of the prompt; no extra pass; needs before-answer "
                  "and the LLM as encoder)")
      ->capture_default_str();
  cmd->add_option("--input-encoder", a->input_encoder,
                  "adapter (frozen encoder + small adapter) | copy (a full trainable copy of the "
                  "BERT --encoder, as the reference)")
      ->capture_default_str();
  cmd->add_flag("--no-eos", a->no_eos,
                "Targets without a closing EOS (LLMs that never saw EOS, e.g. TinyStories)");
  cmd->add_option("--resume", a->resume, "Continue from OUT/last of an interrupted run");
  cmd->add_flag(
      "--no-progress", [a](int64_t) { a->options.progress_bar = false; },
      "Plain log lines instead of a progress bar");
  cmd->callback([a] { run_train(*a); });
}

}  // namespace pplug::cli
