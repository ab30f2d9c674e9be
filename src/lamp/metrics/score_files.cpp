// Scoring two files: the task named on the command line and in each file must agree.
#include <charconv>
#include <cmath>

#include "pplug/error.h"
#include "pplug/lamp_metrics.h"

namespace pplug::lamp {
namespace {

Task file_task(const OutputsFile& file, const std::string& path) {
  try {
    return parse_task(file.task);
  } catch (const InvalidArgument& e) {
    throw FormatError(path + ": \"task\": " + e.what());
  }
}

}  // namespace

Scores score_files(const std::string& task_name_or_empty, const std::string& golds_path,
                   const std::string& predictions_path) {
  const OutputsFile golds = read_outputs(golds_path);
  const OutputsFile predictions = read_outputs(predictions_path);
  std::optional<Task> task;
  if (!task_name_or_empty.empty()) task = parse_task(task_name_or_empty);
  const std::pair<const OutputsFile*, const std::string*> files[] = {
      {&golds, &golds_path}, {&predictions, &predictions_path}};
  for (const auto& [file, path] : files) {
    if (file->task.empty()) continue;
    const Task named = file_task(*file, *path);
    if (!task) {
      task = named;
    } else if (named != *task) {
      throw MismatchError(*path + ": task \"" + file->task + "\" does not match " +
                          task_name(*task));
    }
  }
  if (!task) {
    throw InvalidArgument("no task given and " + golds_path + " names none (\"task\" member)");
  }
  try {
    return score(*task, golds.golds, predictions.golds);
  } catch (const MismatchError& e) {
    throw MismatchError(predictions_path + " vs " + golds_path + ": " + e.what());
  } catch (const FormatError& e) {
    throw FormatError(golds_path + ": " + e.what());
  }
}

std::string scores_to_json(const Scores& scores) {
  std::string out = "{";
  for (const auto& [name, value] : scores) {
    if (out.size() > 1) out += ", ";
    out += "\"" + name + "\": ";
    if (!std::isfinite(value)) {
      out += "null";
      continue;
    }
    char buf[32];
    const auto result = std::to_chars(buf, buf + sizeof(buf), value);
    out.append(buf, result.ptr);
  }
  out += "}";
  return out;
}

}  // namespace pplug::lamp
