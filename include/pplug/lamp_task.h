// LaMP and LongLaMP task identities: canonical names, the fields each task's profile items carry,
// the label set of the classification tasks and which metric family scores each task.
// See docs/lamp.md.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pplug::lamp {

// LaMP-1..7 (Salemi et al. 2024) and LongLaMP-1..4 (Kumar et al. 2024).
enum class Task {
  kLaMP1 = 1,  // citation identification, labels "[1]" / "[2]"
  kLaMP2,      // movie tagging, 15 tags
  kLaMP3,      // product rating "1".."5"
  kLaMP4,      // news headline generation
  kLaMP5,      // scholarly title generation
  kLaMP6,      // email subject generation (private data)
  kLaMP7,      // tweet paraphrasing
  kLongLaMP1,  // email completion
  kLongLaMP2,  // abstract generation
  kLongLaMP3,  // review writing
  kLongLaMP4,  // topic writing
};

// How a task is scored.
enum class MetricFamily {
  kClassification,  // accuracy + macro-F1 (LaMP-1, LaMP-2)
  kRating,          // MAE + RMSE (LaMP-3)
  kGeneration,      // ROUGE-1 + ROUGE-L (LaMP-4..7, LongLaMP)
};

// Parses "LaMP_2", "LaMP-2", "LongLaMP_3" (case-insensitive, '_' or '-'); throws
// InvalidArgument naming the value and the accepted names otherwise.
Task parse_task(std::string_view name);
// The canonical name with an underscore, as written in outputs files: "LaMP_2", "LongLaMP_3".
std::string task_name(Task task);
bool is_longlamp(Task task);
MetricFamily metric_family(Task task);
// The label strings of a classification task in their fixed order (index = class id); empty for
// other tasks.
const std::vector<std::string>& task_labels(Task task);
// The fields every profile item of the task must carry, "id" included (LaMP-2: id, description,
// tag). Empty for LongLaMP, whose item layouts vary: no field is required there.
const std::vector<std::string>& profile_fields(Task task);

}  // namespace pplug::lamp
