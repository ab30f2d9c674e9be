// Training a Persona-Plug plug-in over a frozen LLM (only the plug-in's parameters learn).
//
// Loss: cross-entropy on the target tokens (and the closing EOS) only. The frozen history
// encoder's item vectors and the frozen input vectors are computed once per distinct text
// before the first step, never per step; so are the LLM's keys and values of every prompt's
// start before the soft tokens (within TrainOptions::prefix_cache_mb), and the differentiable
// forward and backward run only from the soft tokens on. Deterministic for a seed and thread count;
// a run that is interrupted and resumed ends with the same weights as one that was not.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pplug/lamp_data.h"
#include "pplug/persona_plug.h"

namespace pplug {

class Communicator;  // pplug/distributed.h

struct TrainOptions {
  int epochs = 2;                  // passes over the (augmented) training set
  double lr = 1e-4;                // AdamW peak learning rate (reference 1e-4)
  double weight_decay = 1e-4;      // AdamW decoupled weight decay (reference 1e-4)
  double warmup_ratio = 0.05;      // share of steps with linear warm-up, then linear decay to 0
  int batch_size = 8;              // examples per forward pass
  int grad_accum = 1;              // forward passes per optimizer step
  double max_grad_norm = 1.0;      // gradient clipping (L2 over all plug-in parameters); 0 = off
  uint64_t seed = 0;               // data order, history dropout and plug-in initialisation
  int history_dropout_copies = 0;  // extra copies of each query whose user has > 2 items, each
                                   // with a random 1..50% of the history dropped (reference 10)
  int max_target_tokens = 32;      // target tokens kept (EOS included)
  int prefix_cache_mb = 1024;      // memory for the frozen keys/values of every prompt's start
                                   // (before the soft tokens), computed once for the run; when
                                   // they need more (or 0), each micro-batch recomputes its own
  std::string out_dir;             // checkpoints: best/, last/ (resumable), metrics.jsonl
  // Data-parallel training (docs/training.md): this process is one of
  // communicator->world_size() ranks that train the same plug-in together. batch_size is per
  // rank: a step's global batch is batch_size x world_size x grad_accum examples, and the run
  // takes the same steps as one process with batch_size x world_size. Only rank 0 writes to
  // out_dir. Null: one process.
  std::shared_ptr<Communicator> communicator;
  bool progress_bar = true;  // a live bar when stderr is a terminal, log lines otherwise
  int log_every = 20;        // optimizer steps between plain log lines
  // Stop as an interruption does (saving out_dir/last, summary.interrupted) once the run has
  // taken this many optimizer steps in all (counted from its start, across resumes); 0 = never.
  // For time-sliced jobs, and for tests of resumption.
  int64_t stop_at_step = 0;
};

// A labelled split: questions and their gold outputs, paired by id.
struct LabelledSplit {
  std::vector<lamp::Question> questions;
  std::vector<lamp::Output> golds;
};

// Scores a plug-in on the dev split; returns (metric value, higher_is_better).
using DevEvaluator = std::function<std::pair<double, bool>(const PersonaPlug& plug)>;

struct TrainSummary {
  int64_t steps = 0;        // optimizer steps taken in total
  double first_loss = 0.0;  // mean loss of the first logged window
  double last_loss = 0.0;   // mean loss of the last epoch
  double best_dev = 0.0;    // best dev metric (when a dev evaluator was given)
  double examples_per_second = 0.0;
  bool interrupted = false;  // stopped by a signal; out_dir/last holds the resumable state
};

// Trains `plug` in place. With `resume_dir` (an out_dir/last folder of an earlier run with the
// same data and options) the run continues where that one stopped. Throws InvalidArgument for
// an empty training set, ids without golds, an out_dir that holds something else.
TrainSummary train_plugin(PersonaPlug& plug, const LabelledSplit& train,
                          const TrainOptions& options, const DevEvaluator& dev = nullptr,
                          const std::string& resume_dir = "");

// Stops a running train_plugin() at the next step boundary (it then saves out_dir/last).
// Async-signal-safe: the CLI calls it from its SIGINT handler.
void request_training_stop();

}  // namespace pplug
