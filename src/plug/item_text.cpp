// History-item texts: per-task templates that keep the user's past labels in.
#include "pplug/error.h"
#include "pplug/lamp_task.h"
#include "pplug/persona_plug.h"

namespace pplug {

HistoryItem text_item(std::string text, std::string id) {
  HistoryItem item;
  item.id = std::move(id);
  item.set("text", std::move(text));
  return item;
}

std::string default_item_template(const std::string& task) {
  if (task.empty()) return "{text}";
  switch (lamp::parse_task(task)) {
    case lamp::Task::kLaMP1:
      return "{title}";
    case lamp::Task::kLaMP2:
      return "{description} tag: {tag}";
    case lamp::Task::kLaMP3:
      return "{text} score: {score}";
    case lamp::Task::kLaMP4:
      return "{title} {text}";
    case lamp::Task::kLaMP5:
      return "{title} {abstract}";
    case lamp::Task::kLaMP6:
      return "{title} {text}";
    case lamp::Task::kLaMP7:
      return "{text}";
    default:
      return "{text}";
  }
}

std::string render_item_template(const std::string& templ, const HistoryItem& item) {
  std::string out;
  out.reserve(templ.size() + 64);
  size_t i = 0;
  while (i < templ.size()) {
    const size_t open = templ.find('{', i);
    if (open == std::string::npos) {
      out.append(templ, i, std::string::npos);
      break;
    }
    out.append(templ, i, open - i);
    const size_t close = templ.find('}', open);
    if (close == std::string::npos) {
      throw InvalidArgument("item template '" + templ + "': unclosed '{'");
    }
    const std::string field = templ.substr(open + 1, close - open - 1);
    const std::string* value = field == "id" ? &item.id : item.find(field);
    if (value == nullptr) {
      throw InvalidArgument("history item '" + item.id + "' has no field '" + field +
                            "' required by the item template '" + templ + "'");
    }
    out += *value;
    i = close + 1;
  }
  return out;
}

}  // namespace pplug
