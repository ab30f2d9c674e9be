// The options of `pplug train` and what they build (the training split, the plug-in config),
// shared with bench/train_dump so that the PyTorch reference trains exactly what `train` trains.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "pplug/lamp_task.h"
#include "pplug/model_io.h"
#include "pplug/plugin_config.h"
#include "pplug/trainer.h"

namespace pplug::cli {

struct TrainArgs {
  std::string model, tokenizer, encoder, task, train_questions, train_outputs, dev_questions,
      dev_outputs, out, resume, aggregator = "attention", dtype = "f32", placement = "after-bos",
                                query_source = "encoder", input_encoder = "adapter",
                                scores = "cosine", recipe = "auto";
  TrainOptions options;
  int threads = 0, persona_tokens = 1, top_k = 0, max_history = 512;
  double temperature = 1.0;
  bool no_persona = false, no_instruction = false, no_eos = false, eos = false;
};

// Registers every option of `pplug train` on `cmd`, bound to `a`.
void add_train_options(CLI::App* cmd, TrainArgs& a);

// Fills every recipe-controlled option the command line left out (`--encoder`, `--epochs`,
// `--lr`, `--history-dropout-copies`, `--aggregator`, `--temperature`, `--scores`,
// `--persona-tokens`, `--placement`, EOS) from `--recipe` for `llm`; returns the recipe's reasons,
// for the log. Options the user gave are kept as given.
std::vector<std::string> apply_recipe(const CLI::App& cmd, TrainArgs& a, const LoadedModel& llm);

// The plug-in configuration the options ask for (after apply_recipe).
PluginConfig plugin_config(const TrainArgs& a, lamp::Task task);

}  // namespace pplug::cli
