// LaMP data files: questions (`{split}_questions.json`), outputs / golds (`{split}_outputs.json`)
// and prediction files (the outputs shape). Readers stream the file through a hand-written JSON
// scanner (no DOM), validate as they go and throw FormatError naming the file, the record index
// or id and the field. Writers write atomically (temporary file + rename).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pplug/lamp_task.h"

namespace pplug::lamp {

// One member of a JSON object kept as text.
struct Field {
  std::string name;       // the JSON key
  std::string value;      // the string's text (unescaped); for a non-string value its raw JSON text
  bool raw_json = false;  // true when `value` is raw JSON (number, bool, null, array, object)
};

// One item of a user's history. Every member other than "id" is kept, in file order, as text.
struct ProfileItem {
  std::string id;             // empty only for tasks that do not require ids (LongLaMP)
  std::vector<Field> fields;  // all members but "id" ("text", "score", "date", unknown ones...)

  // The field's value, or nullptr when absent.
  const std::string* find(std::string_view name) const;
  // The field's value, or "" when absent.
  std::string_view get(std::string_view name) const;
  // Sets (replaces or appends) a string field.
  void set(std::string_view name, std::string value);
};

// One question: a user's input and their history.
struct Question {
  std::string id;                    // unique in the file
  std::string input;                 // the task input (prompt text)
  std::vector<ProfileItem> profile;  // the user's history, in file order
  std::string user_id;               // "" when absent; a numeric user_id is kept as its digits
  std::vector<Field> extra;          // other members kept verbatim (e.g. LongLaMP's "output")

  // An extra member's value, or nullptr when absent.
  const std::string* find_extra(std::string_view name) const;
};

// One gold or predicted output.
struct Output {
  std::string id;      // the question id
  std::string output;  // the label or text
};

// An outputs / golds / predictions file.
struct OutputsFile {
  std::string task;           // the "task" member as written; "" when the file has none
  std::vector<Output> golds;  // the "golds" array, in file order
};

// Options of the questions reader.
struct QuestionsReadOptions {
  // When set, every profile item must carry profile_fields(task) as strings. Unset: only the
  // generic shape (id/input/profile) is checked and items may lack an id.
  std::optional<Task> task;
};

// Reads a questions file (a JSON array of records). Throws FormatError on: unreadable file,
// invalid JSON or UTF-8, a record missing "id"/"input"/"profile", a non-string id or input
// (numeric ids included), a profile that is not an array of objects, a duplicate question id,
// or (with options.task) a profile item lacking one of the task's fields.
std::vector<Question> read_questions(const std::string& path,
                                     const QuestionsReadOptions& options = {});
// Same on in-memory text; `source` names it in error messages.
std::vector<Question> parse_questions(std::string_view json, const std::string& source,
                                      const QuestionsReadOptions& options = {});
// Serialises questions as a JSON array (one record per line); throws InvalidArgument on
// invalid UTF-8 in any string.
std::string questions_to_json(const std::vector<Question>& questions);
// Writes questions_to_json() atomically.
void write_questions(const std::string& path, const std::vector<Question>& questions);

// Reads an outputs / predictions file `{"task": ..., "golds": [{"id", "output"}, ...]}`.
// Throws FormatError on invalid JSON, a missing "golds" array, a non-string id or output, or a
// duplicate id. Other top-level members are ignored.
OutputsFile read_outputs(const std::string& path);
OutputsFile parse_outputs(std::string_view json, const std::string& source);
// Serialises `{"task": task_name(task), "golds": [...]}`.
std::string outputs_to_json(Task task, const std::vector<Output>& outputs);
void write_outputs(const std::string& path, Task task, const std::vector<Output>& outputs);

// The outputs carried inside question records (LongLaMP keeps the gold in each record):
// {id, record.find_extra(field)}. Throws FormatError naming the id when a record lacks it.
std::vector<Output> outputs_from_questions(const std::vector<Question>& questions,
                                           std::string_view field = "output");

}  // namespace pplug::lamp
