// Predictions on LaMP-format questions with or without personalization, for `pplug eval`,
// dev evaluation during training and the results tables.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "pplug/generation.h"
#include "pplug/lamp_data.h"
#include "pplug/lamp_metrics.h"
#include "pplug/lamp_task.h"
#include "pplug/model_io.h"
#include "pplug/persona_plug.h"

namespace pplug {

class Communicator;  // pplug/distributed.h

enum class EvalMethod {
  kNone,        // the frozen LLM on the task input alone
  kRagBm25,     // + the k best BM25 profile items in the prompt (LaMP templates)
  kRagRecency,  // + the k newest profile items
  kPplug,       // Persona-Plug soft tokens (whatever the plug-in was trained with)
  kPplugRag,    // Persona-Plug + the k best BM25 items as text (paper Table 3; k = 1 there)
};
EvalMethod parse_eval_method(const std::string& name);
const char* to_string(EvalMethod method);

struct EvalOptions {
  EvalMethod method = EvalMethod::kPplug;
  int k = 1;                   // retrieved items for the rag methods
  int batch_size = 16;         // questions generated together
  int max_input_tokens = 384;  // prompt tokens kept (the end) for methods without a plug-in
  std::string answer_prefix = "\nAnswer:";  // cue after the input when no plug-in sets one
  GenerationOptions generation;             // see default_generation_options()
  // Classification and rating: pick the most likely of the task's labels (rank classification)
  // instead of free generation, so every prediction is a valid label. Ignored for other tasks.
  bool choose_among_labels = true;
  bool progress_bar = true;  // live bar on a terminal
};

// Per-task decoding defaults: short greedy outputs that stop at a newline for classification
// and rating; beam search (4 beams, the paper's setting) for generation tasks.
GenerationOptions default_generation_options(lamp::Task task);
// A model output as a LaMP prediction: first line, surrounding whitespace removed.
std::string clean_prediction(const std::string& text);

// The labels rank classification chooses among: LaMP-1/2 labels, "1".."5" for LaMP-3; empty for
// generation tasks.
std::vector<std::string> candidate_labels(lamp::Task task);

// Predictions for every question, in order. `plug` is required for the pplug methods.
std::vector<lamp::Output> predict(const LoadedModel& llm, const PersonaPlug* plug, lamp::Task task,
                                  const std::vector<lamp::Question>& questions,
                                  const EvalOptions& options);

// predict() across the ranks of a data-parallel group (pplug/distributed.h): each rank predicts
// the batches b of options.batch_size questions with b % world_size == its rank, and every rank
// returns all the predictions in the questions' order. The batches are those of one process, so
// the predictions equal predict()'s on one process (at the same thread count). A null or
// one-rank `comm` is predict().
std::vector<lamp::Output> predict_sharded(Communicator* comm, const LoadedModel& llm,
                                          const PersonaPlug* plug, lamp::Task task,
                                          const std::vector<lamp::Question>& questions,
                                          const EvalOptions& options);

// The metric that selects checkpoints: accuracy, MAE (lower is better) or ROUGE-1.
std::pair<double, bool> primary_metric(lamp::Task task, const lamp::Scores& scores);

}  // namespace pplug
