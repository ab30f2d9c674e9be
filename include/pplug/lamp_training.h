// Training on LaMP-format files, as `pplug train` does it: a labelled split read with the checks
// the official scorer makes, and the dev-set evaluator train_plugin selects best/ with.
//
//   const auto train = read_labelled_split("train_questions.json", "train_outputs.json", task);
//   const auto dev = read_labelled_split("dev_questions.json", "dev_outputs.json", task);
//   train_plugin(plug, train, options, lamp_dev_evaluator(llm, task, dev));
#pragma once

#include <memory>
#include <string>

#include "pplug/lamp_task.h"
#include "pplug/model_io.h"
#include "pplug/trainer.h"

namespace pplug {

class Communicator;  // pplug/distributed.h

// Reads a questions file and its golds (outputs file) for `task`. Throws FormatError or
// MismatchError naming the file when `score` would refuse the golds (a task other than `task`,
// an invalid label) or when the two files do not hold the same question ids.
LabelledSplit read_labelled_split(const std::string& questions_path,
                                  const std::string& outputs_path, lamp::Task task);

// Scores a plug-in on `dev` with the task's primary metric: greedy predictions (cheaper than the
// task's beam search, and enough to rank checkpoints), split over the ranks of `comm` when given
// (every rank must call it: data-parallel training does). The evaluator keeps copies of its
// arguments.
DevEvaluator lamp_dev_evaluator(LoadedModel llm, lamp::Task task, LabelledSplit dev,
                                std::shared_ptr<Communicator> comm = nullptr);

}  // namespace pplug
