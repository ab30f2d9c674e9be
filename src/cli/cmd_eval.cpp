// pplug eval: predictions (and scores) on LaMP-format questions with any method.
#include <iostream>
#include <memory>

#include "cli/cli_common.h"
#include "cli/cli_distributed.h"
#include "cli/cli_plugin.h"
#include "cli/commands.h"
#include "pplug/error.h"
#include "pplug/evaluator.h"
#include "pplug/lamp_data.h"
#include "pplug/lamp_metrics.h"

namespace pplug::cli {
namespace {

struct EvalArgs {
  std::string model, tokenizer, encoder, task, questions, outputs, method = "pplug", plugin,
                                                                   preds_out, dtype = "f32";
  int k = -1, threads = 0, batch_size = 16, max_new_tokens = 0, beams = 0;
  bool no_progress = false, free_generation = false;
};

void run_eval(const EvalArgs& a, const DistributedArgs& d) {
  launch_workers_if_asked(d);
  set_threads(a.threads);
  const auto comm = join_group_from_env(d);
  const bool rank0 = comm == nullptr || comm->rank() == 0;
  const lamp::Task task = lamp::parse_task(a.task);
  EvalOptions o;
  o.method = parse_eval_method(a.method);
  o.batch_size = a.batch_size;
  o.progress_bar = !a.no_progress;
  o.choose_among_labels = !a.free_generation;
  o.generation = default_generation_options(task);
  if (a.max_new_tokens > 0) o.generation.max_new_tokens = a.max_new_tokens;
  if (a.beams > 0) o.generation.num_beams = a.beams;
  o.k = a.k >= 0 ? a.k : (o.method == EvalMethod::kPplugRag ? 1 : 4);
  lamp::QuestionsReadOptions ro;
  ro.task = task;
  const auto questions = lamp::read_questions(a.questions, ro);
  const bool personal = o.method == EvalMethod::kPplug || o.method == EvalMethod::kPplugRag;
  if (personal && a.plugin.empty()) {
    throw InvalidArgument("--method " + a.method + " needs --plugin DIR");
  }
  const auto llm = load_cli_model(a.model, a.tokenizer, a.dtype);
  std::shared_ptr<PersonaPlug> plug;
  if (!a.plugin.empty()) {
    plug = load_cli_plugin(a.plugin, llm, a.encoder);
    if (plug->config().task != lamp::task_name(task)) {
      throw MismatchError(a.plugin + ": plug-in was trained for " + plug->config().task +
                          ", but --task is " + lamp::task_name(task));
    }
    o.answer_prefix = plug->config().answer_prefix;
    o.max_input_tokens = plug->config().max_input_tokens;
  }
  if (comm != nullptr) {
    comm->check_same("model (fingerprint)", language_model_of(llm)->fingerprint());
    comm->check_same("plug-in (fingerprint)", plug ? plug->fingerprint() : "none");
  }
  const auto preds = predict_sharded(comm.get(), llm, plug.get(), task, questions, o);
  if (!rank0) return;  // rank 0 writes and scores the merged predictions
  lamp::write_outputs(a.preds_out, task, preds);
  if (!a.outputs.empty()) {
    const auto golds = lamp::read_outputs(a.outputs);
    if (!golds.task.empty() && lamp::parse_task(golds.task) != task) {
      throw MismatchError(a.outputs + ": task is " + golds.task + ", but --task is " +
                          lamp::task_name(task));
    }
    std::cout << lamp::scores_to_json(lamp::score(task, golds.golds, preds)) << "\n";
  }
}

}  // namespace

void register_eval(CLI::App& app) {
  auto a = std::make_shared<EvalArgs>();
  auto d = std::make_shared<DistributedArgs>();
  auto* cmd = app.add_subcommand("eval", "Predict (and score) LaMP-format questions");
  add_llm_options(cmd, a->model, a->tokenizer, a->encoder);
  cmd->add_option("--task", a->task, "LaMP task, e.g. LaMP_2")->required();
  cmd->add_option("--questions", a->questions, "Questions file")->required();
  cmd->add_option("--outputs", a->outputs, "Gold outputs: print the scores as JSON");
  cmd->add_option("--method", a->method, "none | rag-bm25 | rag-recency | pplug | pplug-rag")
      ->capture_default_str();
  cmd->add_option("--k", a->k, "Retrieved items (default 4; 1 for pplug-rag)")
      ->check(int_in(0, limits::kMaxItems));
  cmd->add_option("--plugin", a->plugin, "Plug-in folder (pplug methods)");
  cmd->add_option("--preds-out", a->preds_out, "Predictions file to write")->required();
  cmd->add_option("--batch-size", a->batch_size, "Questions per batch")
      ->capture_default_str()
      ->check(int_in(1, limits::kMaxBatch));
  cmd->add_option("--max-new-tokens", a->max_new_tokens, "Override the task default")
      ->check(int_in(1, limits::kMaxNewTokens));
  cmd->add_option("--beams", a->beams, "Override the task default (1 = greedy)")
      ->check(int_in(1, limits::kMaxBeams));
  add_threads_option(cmd, a->threads);
  cmd->add_option("--dtype", a->dtype, kDtypeHelp)->capture_default_str();
  cmd->add_flag("--no-progress", a->no_progress, "No progress bar");
  cmd->add_flag("--free-generation", a->free_generation,
                "Classification/rating: generate freely instead of choosing among the labels");
  add_distributed_options(cmd, *d);
  cmd->callback([a, d] { run_eval(*a, *d); });
}

}  // namespace pplug::cli
