#include "cli/cli_plugin.h"

#include <nlohmann/json.hpp>

#include <optional>

#include "pplug/error.h"
#include "pplug/lamp_task.h"
#include "serve/history_json.h"
#include "util/file_io.h"

namespace pplug::cli {
namespace {

using nlohmann::json;

bool looks_like_questions(const json& array) {
  return !array.empty() && array.front().is_object() && array.front().contains("profile");
}

}  // namespace

HistoryFile read_history_file(const std::string& path, const std::string& id,
                              const std::string& task) {
  json doc;
  try {
    doc = json::parse(detail::read_file(path));
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e999
    throw FormatError(path + ": malformed history JSON: " + e.what());
  }
  if (!doc.is_array()) {
    throw FormatError(path + ": history must be a JSON array of profile items or of LaMP " +
                      "questions, got a JSON " + doc.type_name());
  }
  HistoryFile out;
  if (!looks_like_questions(doc)) {
    if (!id.empty()) {
      throw InvalidArgument("--id '" + id + "' given, but " + path +
                            " is a history array, not a LaMP questions file");
    }
    out.items = serve::history_items_from_json(doc, path);
    return out;
  }
  if (id.empty()) {
    throw InvalidArgument(path + " is a LaMP questions file: give --id to pick the question " +
                          "whose profile is the history");
  }
  lamp::QuestionsReadOptions options;
  if (!task.empty()) options.task = lamp::parse_task(task);
  for (auto& q : lamp::read_questions(path, options)) {
    if (q.id == id) {
      out.items = std::move(q.profile);
      out.input = std::move(q.input);
      out.from_question = true;
      return out;
    }
  }
  throw InvalidArgument(path + ": no question with id '" + id + "' (--id)");
}

std::shared_ptr<PersonaPlug> load_cli_plugin(const std::string& plugin_dir, const LoadedModel& llm,
                                             const std::string& encoder_dir) {
  // No --encoder: the one the plug-in records (its LLM encoder), else the default.
  const std::string name =
      encoder_dir.empty() ? PersonaPlug::recorded_encoder(plugin_dir) : encoder_dir;
  auto encoder = load_sentence_encoder(name, llm);
  return PersonaPlug::load(plugin_dir, llm, std::move(encoder));
}

void check_plugin_task(const PersonaPlug& plug, const std::string& task) {
  if (task.empty()) return;
  const std::string& served = plug.config().task;
  const std::string wanted = lamp::task_name(lamp::parse_task(task));
  if (served.empty() || lamp::task_name(lamp::parse_task(served)) != wanted) {
    throw MismatchError("--task " + task + ": the plug-in serves " +
                        (served.empty() ? std::string("plain text (no task)") : served));
  }
}

}  // namespace pplug::cli
