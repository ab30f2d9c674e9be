#include "pplug/lamp_training.h"

#include <set>

#include "pplug/distributed.h"
#include "pplug/error.h"
#include "pplug/evaluator.h"
#include "pplug/lamp_data.h"
#include "pplug/lamp_metrics.h"

namespace pplug {

LabelledSplit read_labelled_split(const std::string& questions, const std::string& outputs,
                                  lamp::Task task) {
  LabelledSplit split;
  lamp::QuestionsReadOptions ro;
  ro.task = task;
  split.questions = lamp::read_questions(questions, ro);
  const auto golds = lamp::read_outputs(outputs);
  if (!golds.task.empty() && lamp::parse_task(golds.task) != task) {
    throw MismatchError(outputs + ": task is " + golds.task +
                        ", but the task asked for (--task) is " + lamp::task_name(task));
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

DevEvaluator lamp_dev_evaluator(LoadedModel llm, lamp::Task task, LabelledSplit dev,
                                std::shared_ptr<Communicator> comm) {
  return [llm = std::move(llm), task, dev = std::move(dev),
          comm = std::move(comm)](const PersonaPlug& plug) {
    EvalOptions eo;
    eo.method = EvalMethod::kPplug;
    eo.generation = default_generation_options(task);
    eo.generation.num_beams = 1;
    eo.progress_bar = false;
    const auto preds = predict_sharded(comm.get(), llm, &plug, task, dev.questions, eo);
    return primary_metric(task, lamp::score(task, dev.golds, preds));
  };
}

}  // namespace pplug
