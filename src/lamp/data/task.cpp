#include "pplug/lamp_task.h"

#include <cctype>

#include "pplug/error.h"

namespace pplug::lamp {
namespace {

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i]))) {
      return false;
    }
  }
  return true;
}

// "_2" or "-2" -> 2; 0 when the suffix is anything else.
int parse_suffix(std::string_view rest) {
  if (rest.size() != 2 || (rest[0] != '_' && rest[0] != '-')) return 0;
  if (rest[1] < '1' || rest[1] > '9') return 0;
  return rest[1] - '0';
}

}  // namespace

Task parse_task(std::string_view name) {
  if (iequals_prefix(name, "LongLaMP")) {
    const int k = parse_suffix(name.substr(8));
    if (k >= 1 && k <= 4) return static_cast<Task>(static_cast<int>(Task::kLongLaMP1) + k - 1);
  } else if (iequals_prefix(name, "LaMP")) {
    const int k = parse_suffix(name.substr(4));
    if (k >= 1 && k <= 7) return static_cast<Task>(k);
  }
  throw InvalidArgument("unknown task '" + std::string(name) +
                        "' (expected LaMP_1..LaMP_7 or LongLaMP_1..LongLaMP_4; '-' also accepted)");
}

std::string task_name(Task task) {
  const int k = static_cast<int>(task);
  if (is_longlamp(task))
    return "LongLaMP_" + std::to_string(k - static_cast<int>(Task::kLongLaMP1) + 1);
  return "LaMP_" + std::to_string(k);
}

bool is_longlamp(Task task) { return static_cast<int>(task) >= static_cast<int>(Task::kLongLaMP1); }

MetricFamily metric_family(Task task) {
  switch (task) {
    case Task::kLaMP1:
    case Task::kLaMP2:
      return MetricFamily::kClassification;
    case Task::kLaMP3:
      return MetricFamily::kRating;
    default:
      return MetricFamily::kGeneration;
  }
}

const std::vector<std::string>& task_labels(Task task) {
  static const std::vector<std::string> kCitation = {"[1]", "[2]"};
  static const std::vector<std::string> kTags = {"sci-fi",
                                                 "based on a book",
                                                 "comedy",
                                                 "action",
                                                 "twist ending",
                                                 "dystopia",
                                                 "dark comedy",
                                                 "classic",
                                                 "psychology",
                                                 "fantasy",
                                                 "romance",
                                                 "thought-provoking",
                                                 "social commentary",
                                                 "violence",
                                                 "true story"};
  static const std::vector<std::string> kNone;
  if (task == Task::kLaMP1) return kCitation;
  if (task == Task::kLaMP2) return kTags;
  return kNone;
}

const std::vector<std::string>& profile_fields(Task task) {
  static const std::vector<std::string> kTitleAbstract = {"id", "title", "abstract"};
  static const std::vector<std::string> kDescriptionTag = {"id", "description", "tag"};
  static const std::vector<std::string> kTextScore = {"id", "text", "score"};
  static const std::vector<std::string> kTitleText = {"id", "title", "text"};
  static const std::vector<std::string> kText = {"id", "text"};
  static const std::vector<std::string> kNone;
  switch (task) {
    case Task::kLaMP1:
    case Task::kLaMP5:
      return kTitleAbstract;
    case Task::kLaMP2:
      return kDescriptionTag;
    case Task::kLaMP3:
      return kTextScore;
    case Task::kLaMP4:
      return kTitleText;
    case Task::kLaMP6:
    case Task::kLaMP7:
      return kText;
    default:
      return kNone;
  }
}

}  // namespace pplug::lamp
