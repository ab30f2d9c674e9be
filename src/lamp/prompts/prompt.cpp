// Retrieval-augmented prompts with the LaMP per-task templates and token budget.
#include <algorithm>
#include <optional>

#include "lamp/data/json_writer.h"
#include "pplug/error.h"
#include "pplug/lamp_prompt.h"

namespace pplug::lamp {
namespace {

// Python's floor division.
long floor_div(long a, long b) {
  long q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// The name of the field that is cut to fit the budget.
std::string_view long_field(Task task) {
  switch (task) {
    case Task::kLaMP1:
      return "title";
    case Task::kLaMP2:
      return "description";
    case Task::kLaMP5:
      return "abstract";
    default:
      return "text";
  }
}

// The per-item string with `body` in place of the long field (note the trailing spaces).
std::string render_item(Task task, const ProfileItem& item, std::string_view body) {
  const std::string b(body);
  switch (task) {
    case Task::kLaMP1:
      return "\"" + b + "\"";
    case Task::kLaMP2:
      return "the tag for the movie: \"" + b + "\" is \"" + std::string(item.get("tag")) + "\" ";
    case Task::kLaMP3:
      return std::string(item.get("score")) + " is the score for \"" + b + "\" ";
    case Task::kLaMP5:
      return "\"" + std::string(item.get("title")) + "\" is a title for \"" + b + "\" ";
    case Task::kLaMP7:
      return "\"" + b + "\" ";
    default:  // LaMP-4, LaMP-6
      return "\"" + std::string(item.get("title")) + "\" is the title for \"" + b + "\" ";
  }
}

std::string assemble(Task task, std::string_view input, const std::string& joined) {
  switch (task) {
    case Task::kLaMP1: {
      const size_t at = input.find("title");
      if (at == std::string_view::npos) return std::string(input);
      return std::string(input.substr(0, at + 5)) + ", and " + joined +
             std::string(input.substr(at + 5));
    }
    case Task::kLaMP5:
      return joined + ". Following the given patterns " + std::string(input);
    case Task::kLaMP7:
      return joined + " are written by a person. Following the given patterns " +
             std::string(input);
    default:
      return joined + ". " + std::string(input);
  }
}

// The prompt under a prompt budget B, or nullopt when an item's template alone exceeds its share.
std::optional<std::string> try_build(Task task, std::string_view input,
                                     const std::vector<const ProfileItem*>& items, long budget,
                                     const TokenCounter& counter) {
  const long k = static_cast<long>(items.size());
  const long per_item = floor_div(budget - 1 - 2 * (k - 1), k);
  long saved = 0;
  std::string joined;
  for (size_t i = 0; i < items.size(); ++i) {
    const ProfileItem& item = *items[i];
    // Only as many tokens as the budget can use are encoded (a huge field costs no more).
    const long share = per_item + saved;
    if (share < 0) return std::nullopt;
    const TokenPrefix overhead =
        encode_prefix(counter, render_item(task, item, ""), static_cast<size_t>(share));
    if (overhead.truncated) return std::nullopt;
    const long allowed = share - static_cast<long>(overhead.ids.size());
    const std::string_view field = item.get(long_field(task));
    const TokenPrefix tokens = encode_prefix(counter, field, static_cast<size_t>(allowed));
    const std::string body = tokens.truncated ? counter.decode(tokens.ids) : std::string(field);
    saved = allowed - static_cast<long>(tokens.ids.size());
    if (i > 0) joined += ", and ";
    joined += render_item(task, item, body);
  }
  return assemble(task, input, joined);
}

}  // namespace

std::string build_prompt(Task task, std::string_view input,
                         const std::vector<const ProfileItem*>& items, int max_length,
                         const TokenCounter& counter) {
  if (is_longlamp(task)) {
    throw InvalidArgument("prompt templates are not defined for " + task_name(task));
  }
  if (max_length <= 0) {
    throw InvalidArgument("max_length must be positive, got " + std::to_string(max_length));
  }
  if (items.empty()) return std::string(input);
  // Only min(len(input), int(0.6 L)) matters: the input is encoded up to L tokens at most.
  const long input_tokens =
      static_cast<long>(encode_prefix(counter, input, static_cast<size_t>(max_length)).ids.size());
  // The LaMP code retries with a smaller input share while the items do not fit.
  // The factor takes the same floating values as Python's 0.6 - 0.1 - 0.1 ... (down to ~3e-17).
  double factor = 0.6;
  while (factor >= 0) {
    const auto cap = static_cast<long>(factor * max_length);
    const long budget = max_length - std::min(input_tokens, cap);
    if (auto prompt = try_build(task, input, items, budget, counter)) return *std::move(prompt);
    factor -= 0.1;
  }
  return std::string(input);
}

std::string make_rag_prompt(Task task, const Question& question, const PromptOptions& options,
                            const TokenCounter& counter) {
  if (options.k == 0) return question.input;
  std::vector<const ProfileItem*> items;
  for (const size_t i : rank_profile(task, question, options.method, options.k)) {
    items.push_back(&question.profile[i]);
  }
  return build_prompt(task, question.input, items, options.max_length, counter);
}

std::string rag_prompts_jsonl(Task task, const std::vector<Question>& questions,
                              const PromptOptions& options, const TokenCounter& counter) {
  std::string out;
  for (const Question& q : questions) {
    out += "{\"id\":";
    detail::append_json_string(out, q.id);
    out += ",\"prompt\":";
    if (!detail::append_json_string(out, make_rag_prompt(task, q, options, counter))) {
      throw InvalidArgument("question \"" + q.id + "\": the prompt is not valid UTF-8");
    }
    out += "}\n";
  }
  return out;
}

}  // namespace pplug::lamp
