// pplug train: learn a Persona-Plug plug-in over a frozen LLM.
#include <csignal>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/cli_common.h"
#include "cli/cli_distributed.h"
#include "cli/commands.h"
#include "cli/train_args.h"
#include "pplug/error.h"
#include "pplug/lamp_data.h"
#include "pplug/lamp_training.h"
#include "pplug/trainer.h"
#include "util/log.h"

namespace pplug::cli {
namespace {

void on_sigint(int) { request_training_stop(); }

void run_train(const CLI::App& cmd, TrainArgs& a, const DistributedArgs& d) {
  launch_workers_if_asked(d);
  set_threads(a.threads);
  const lamp::Task task = lamp::parse_task(a.task);
  const auto train = read_labelled_split(a.train_questions, a.train_outputs, task);
  LabelledSplit dev;
  const bool has_dev = !a.dev_questions.empty();
  if (has_dev) {
    if (a.dev_outputs.empty()) throw InvalidArgument("--dev-questions needs --dev-outputs");
    dev = read_labelled_split(a.dev_questions, a.dev_outputs, task);
  }
  // Joined before the model loads: a rank that cannot join fails before the slow part.
  const auto comm = join_group_from_env(d);
  const bool rank0 = comm == nullptr || comm->rank() == 0;
  const auto llm = load_cli_model(a.model, a.tokenizer, a.dtype);
  for (const auto& reason : apply_recipe(cmd, a, llm)) {
    if (rank0) PPLUG_LOG_INFO("recipe {}: {}", a.recipe, reason);
  }
  if (comm != nullptr) {
    comm->check_same("model (fingerprint)", language_model_of(llm)->fingerprint());
    comm->check_same("task", a.task);
  }
  const auto encoder = load_sentence_encoder(a.encoder, llm);
  const PluginConfig config = plugin_config(a, task);
  PersonaPlug plug(llm, encoder, config, a.options.seed);
  a.options.out_dir = a.out;
  a.options.communicator = comm;
  DevEvaluator dev_eval;
  if (has_dev) dev_eval = lamp_dev_evaluator(llm, task, dev, comm);
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
  if (comm != nullptr) j["world_size"] = comm->world_size();
  if (rank0) std::cout << j.dump() << "\n";
  // Stopping where --stop-at-step asked is a success; a signal is not.
  const bool stopped_as_asked =
      a.options.stop_at_step > 0 && summary.steps >= a.options.stop_at_step;
  if (summary.interrupted && !stopped_as_asked)
    throw Error("training interrupted; resume with --resume " + a.out + "/last");
}

}  // namespace

void register_train(CLI::App& app) {
  auto a = std::make_shared<TrainArgs>();
  auto d = std::make_shared<DistributedArgs>();
  auto* cmd = app.add_subcommand("train", "Train a Persona-Plug plug-in (the LLM stays frozen)");
  add_train_options(cmd, *a);
  add_distributed_options(cmd, *d);
  cmd->callback([a, d, cmd] { run_train(*cmd, *a, *d); });
}

}  // namespace pplug::cli
