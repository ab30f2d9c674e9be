// The options of `pplug train` and what they build (the training split, the plug-in config),
// shared with bench/train_dump so that the PyTorch reference trains exactly what `train` trains.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "pplug/lamp_task.h"
#include "pplug/plugin_config.h"
#include "pplug/trainer.h"

namespace pplug::cli {

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

// Registers every option of `pplug train` on `cmd`, bound to `a`.
void add_train_options(CLI::App* cmd, TrainArgs& a);

// Reads a questions file and its golds, checking them as `score` would and that both hold the
// same ids.
LabelledSplit read_split(const std::string& questions, const std::string& outputs, lamp::Task task);

// The plug-in configuration the options ask for.
PluginConfig plugin_config(const TrainArgs& a, lamp::Task task);

}  // namespace pplug::cli
