// Training recipes: the plug-in configuration, history encoder and optimizer settings a training
// run starts from, chosen for the LLM at hand. `pplug train` starts from kAuto and lets every
// flag the user gives override its part; library users get the same settings here.
//
// PluginConfig's and TrainOptions' own member defaults stay the paper's (kReference), so code
// that builds them by hand keeps the reference behaviour.
#pragma once

#include <string>
#include <vector>

#include "pplug/model_io.h"
#include "pplug/plugin_config.h"
#include "pplug/trainer.h"

namespace pplug {

enum class Recipe {
  kAuto,        // kInputAware, with the per-model choices below (what `pplug train` uses)
  kInputAware,  // the measured default (docs/results.md): items keyed by their mean-pooled text
                // and valued by their last token ("llm:last/mean"), standardized scores with a
                // temperature learned from 1, 2 persona tokens, soft tokens before the answer cue
  kReference,   // the paper's settings: mean-pooled items, cosine scores at T = 1, 1 persona
                // token after BOS, EOS-ended targets, lr 1e-4, 2 epochs, batch 8
};

// "auto" | "input-aware" | "reference"; throws InvalidArgument otherwise.
Recipe parse_recipe(const std::string& name);
const char* to_string(Recipe recipe);

struct TrainingRecipe {
  Recipe recipe = Recipe::kReference;  // what was asked for, kAuto resolved to kInputAware
  std::string encoder;                 // a load_sentence_encoder name, e.g. "llm:last/mean"
  PluginConfig config;                 // task set; encoder_dim and llm_dim left to PersonaPlug
  TrainOptions options;                // out_dir, seed and the like left to the caller
  // One line per choice made from the model (its width, its file format), for the run's log.
  std::vector<std::string> reasons;
};

// Hidden widths up to this count as a small LLM: the input-aware recipe trains it with the
// settings measured on stories260K (d = 64): lr 1e-2, 6 epochs, one history-dropout copy.
// Wider LLMs get the paper's optimizer settings (lr 1e-4, 2 epochs), measured there on a 7B.
inline constexpr int64_t kSmallLlmMaxWidth = 512;

// Whether the LLM saw EOS at the end of its pretraining documents. False for llama2.c checkpoints
// (its trainer marks documents with BOS only, so the TinyStories models never predict EOS and an
// EOS-ended target dominates the loss); true otherwise.
bool llm_pretrained_with_eos(const LoadedModel& llm);

// The settings of `recipe` for `llm` and `task` (a LaMP task name, or "" for plain text).
TrainingRecipe training_recipe(Recipe recipe, const LoadedModel& llm, const std::string& task);

}  // namespace pplug
