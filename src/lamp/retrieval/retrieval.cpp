// Per-task query / document text of the LaMP retrieval baseline, recency, and profile ranking.
#include <algorithm>
#include <array>
#include <numeric>
#include <optional>

#include "lamp/data/json_writer.h"
#include "pplug/error.h"
#include "pplug/lamp_retrieval.h"
#include "text/python_str.h"

namespace pplug::lamp {
namespace {

void require_lamp(Task task) {
  if (is_longlamp(task)) {
    throw InvalidArgument("retrieval is not defined for " + task_name(task) +
                          " (only LaMP_1..LaMP_7)");
  }
}

// input[find(marker) + len(marker):].strip(), or the stripped input when the marker is absent.
std::string after_marker(std::string_view input, std::string_view marker) {
  const size_t at = input.find(marker);
  if (at == std::string_view::npos) return std::string(pplug::detail::unicode::py_strip(input));
  return std::string(pplug::detail::unicode::py_strip(input.substr(at + marker.size())));
}

// The strings between double quotes, in order (quotes do not nest).
std::vector<std::string_view> quoted_strings(std::string_view s) {
  std::vector<std::string_view> out;
  size_t open = std::string_view::npos;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '"') continue;
    if (open == std::string_view::npos) {
      open = i + 1;
    } else {
      out.push_back(s.substr(open, i - open));
      open = std::string_view::npos;
    }
  }
  return out;
}

// "YYYY-MM-DD" (any number of '-'-separated non-negative integers) as an integer tuple.
std::optional<std::vector<long>> parse_date(std::string_view s) {
  std::vector<long> parts;
  size_t i = 0;
  for (;;) {
    size_t digits = 0;
    long v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && digits < 12) {
      v = v * 10 + (s[i] - '0');
      ++i;
      ++digits;
    }
    if (digits == 0) return std::nullopt;
    parts.push_back(v);
    if (i == s.size()) return parts;
    if (s[i] != '-') return std::nullopt;
    ++i;
  }
}

std::vector<size_t> rank_recency(const std::vector<ProfileItem>& profile) {
  std::vector<std::optional<std::vector<long>>> dates;
  dates.reserve(profile.size());
  for (const ProfileItem& item : profile) {
    const std::string* d = item.find("date");
    dates.push_back(d == nullptr ? std::nullopt : parse_date(*d));
  }
  std::vector<size_t> order(profile.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (dates[a].has_value() != dates[b].has_value()) return dates[a].has_value();
    if (dates[a] && *dates[a] != *dates[b]) return *dates[a] > *dates[b];
    return a > b;
  });
  return order;
}

}  // namespace

RetrievalMethod parse_retrieval_method(std::string_view name) {
  if (name == "bm25") return RetrievalMethod::kBm25;
  if (name == "recency") return RetrievalMethod::kRecency;
  throw InvalidArgument("unknown retrieval method '" + std::string(name) +
                        "' (expected bm25 or recency)");
}

std::string retrieval_query(Task task, std::string_view input) {
  require_lamp(task);
  switch (task) {
    case Task::kLaMP1: {
      const auto quoted = quoted_strings(input);
      if (quoted.size() < 3) return std::string(pplug::detail::unicode::py_strip(input));
      return std::string(quoted[1]) + " " + std::string(quoted[2]);
    }
    case Task::kLaMP2:
      return after_marker(input, "description:");
    case Task::kLaMP3:
      return after_marker(input, "review:");
    case Task::kLaMP4:
      return after_marker(input, "article:");
    default:
      return after_marker(input, ":");
  }
}

std::string retrieval_document(Task task, const ProfileItem& item) {
  require_lamp(task);
  auto join = [&](std::string_view a, std::string_view b) {
    return std::string(item.get(a)) + " " + std::string(item.get(b));
  };
  switch (task) {
    case Task::kLaMP1:
    case Task::kLaMP5:
      return join("title", "abstract");
    case Task::kLaMP2:
      return std::string(item.get("description"));
    case Task::kLaMP4:
      return join("title", "text");
    default:
      return std::string(item.get("text"));
  }
}

std::vector<size_t> rank_profile(Task task, const Question& question, RetrievalMethod method,
                                 size_t k) {
  require_lamp(task);
  std::vector<size_t> order;
  if (method == RetrievalMethod::kRecency) {
    order = rank_recency(question.profile);
  } else {
    std::vector<std::vector<std::string>> corpus;
    corpus.reserve(question.profile.size());
    for (const ProfileItem& item : question.profile) {
      corpus.push_back(whitespace_tokens(retrieval_document(task, item)));
    }
    const Bm25Okapi bm25(corpus);
    order = rank_by_score(bm25.scores(whitespace_tokens(retrieval_query(task, question.input))));
  }
  if (k > 0 && order.size() > k) order.resize(k);
  return order;
}

std::string retrieval_json(Task task, const std::vector<Question>& questions,
                           RetrievalMethod method, size_t k) {
  std::string out = "{";
  for (size_t i = 0; i < questions.size(); ++i) {
    const Question& q = questions[i];
    out += i == 0 ? "\n" : ",\n";
    detail::append_json_string(out, q.id);
    out += ":[";
    const std::vector<size_t> order = rank_profile(task, q, method, k);
    for (size_t j = 0; j < order.size(); ++j) {
      if (j > 0) out += ',';
      detail::append_json_string(out, q.profile[order[j]].id);
    }
    out += ']';
  }
  out += "\n}\n";
  return out;
}

}  // namespace pplug::lamp
