// pplug score: the official LaMP metrics of a predictions file against a golds file.
#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "pplug/lamp_metrics.h"

namespace pplug::cli {
namespace {

struct ScoreArgs {
  std::string task;         // "LaMP_2" / "LaMP-2" ...; "" = the golds file's task
  std::string golds;        // outputs file with the golds
  std::string predictions;  // outputs-shaped predictions file
};

void run_score(const ScoreArgs& a) {
  const lamp::Scores scores = lamp::score_files(a.task, a.golds, a.predictions);
  std::cout << lamp::scores_to_json(scores) << "\n";
}

}  // namespace

void register_score(CLI::App& app) {
  auto args = std::make_shared<ScoreArgs>();
  auto* cmd = app.add_subcommand(
      "score",
      "Score LaMP predictions (accuracy/f1, MAE/RMSE or rouge-1/rouge-L) as one JSON line");
  cmd->add_option("--task", args->task,
                  "LaMP_1..LaMP_7 or LongLaMP_1..4 (default: the golds' task)");
  cmd->add_option("--golds", args->golds, "Golds file {\"task\", \"golds\": [{id, output}]}")
      ->required();
  cmd->add_option("--preds", args->predictions, "Predictions file, same shape as the golds")
      ->required();
  cmd->callback([args] { run_score(*args); });
}

}  // namespace pplug::cli
