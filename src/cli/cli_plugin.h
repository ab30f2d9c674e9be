// Helpers shared by the plug-in verbs (embed, generate --plugin, plugin-init): reading a user's
// history from a file and loading a plug-in folder with its history encoder.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "pplug/persona_plug.h"

namespace pplug::cli {

// A user's history read from a file.
struct HistoryFile {
  std::vector<HistoryItem> items;  // the profile items, in file order
  std::string input;               // the question's input (LaMP questions file only)
  bool from_question = false;      // true when `items` is the profile of question --id
};

// Reads --history FILE: a JSON array of profile items (objects whose members are strings or
// numbers; "id" optional), or a LaMP questions file, where `id` picks the question whose
// profile is the history. `task` (may be "") validates the questions' profile fields. Throws
// FormatError naming the file (and item, field) for malformed JSON, InvalidArgument for a
// missing or unknown --id.
HistoryFile read_history_file(const std::string& path, const std::string& id,
                              const std::string& task);

// Loads --plugin DIR for `llm` with the history encoder --encoder DIR ("" = the encoder the
// plug-in records, PersonaPlug::recorded_encoder, or else the LLM itself).
std::shared_ptr<PersonaPlug> load_cli_plugin(const std::string& plugin_dir, const LoadedModel& llm,
                                             const std::string& encoder_dir);

// Throws MismatchError when --task names another task than the plug-in serves ("" = no check).
void check_plugin_task(const PersonaPlug& plug, const std::string& task);

}  // namespace pplug::cli
