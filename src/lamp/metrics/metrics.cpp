// LaMP scoring: the three metric families and the id matching around them.
#include <cmath>
#include <unordered_map>

#include "lamp/metrics/numeric.h"
#include "pplug/error.h"
#include "pplug/lamp_metrics.h"
#include "text/python_str.h"

namespace pplug::lamp {
namespace {

constexpr size_t kShownIds = 5;

double mean(const std::vector<double>& v) {
  return detail::pairwise_sum(v.data(), v.size()) / static_cast<double>(v.size());
}

void check_aligned(size_t golds, size_t predictions) {
  if (golds != predictions) {
    throw MismatchError("got " + std::to_string(predictions) + " predictions for " +
                        std::to_string(golds) + " golds");
  }
  if (golds == 0) throw InvalidArgument("no examples to score");
}

std::string quoted_list(const std::vector<std::string>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size() && i < kShownIds; ++i) {
    out += (i == 0 ? "\"" : ", \"") + ids[i] + "\"";
  }
  if (ids.size() > kShownIds) out += ", ...";
  return out;
}

using Ids = std::vector<std::string_view>;

std::string describe_gold(size_t i, const Ids* ids) {
  std::string out = "gold " + std::to_string(i);
  if (ids != nullptr) out += " (id \"" + std::string((*ids)[i]) + "\")";
  return out;
}

Scores classification_impl(const std::vector<std::string>& labels,
                           const std::vector<std::string_view>& golds,
                           const std::vector<std::string_view>& predictions, const Ids* ids) {
  check_aligned(golds.size(), predictions.size());
  std::unordered_map<std::string_view, int> index;
  for (size_t i = 0; i < labels.size(); ++i) index.emplace(labels[i], static_cast<int>(i));
  const size_t num_labels = labels.size();
  std::vector<long> tp(num_labels, 0), fp(num_labels, 0), fn(num_labels, 0);
  long correct = 0;
  for (size_t i = 0; i < golds.size(); ++i) {
    const auto g = index.find(pplug::detail::unicode::py_strip(golds[i]));
    if (g == index.end()) {
      throw FormatError(describe_gold(i, ids) + " is not a valid label: \"" +
                        std::string(golds[i]) + "\"");
    }
    const auto p = index.find(pplug::detail::unicode::py_strip(predictions[i]));
    const int gold = g->second;
    const int pred = p == index.end() ? -1 : p->second;
    if (pred == gold) {
      ++correct;
      ++tp[gold];
    } else {
      ++fn[gold];
      if (pred >= 0) ++fp[pred];  // an invalid prediction is no class's false positive
    }
  }
  std::vector<double> f1(num_labels);
  for (size_t c = 0; c < num_labels; ++c) {
    const long denominator = 2 * tp[c] + fp[c] + fn[c];
    f1[c] =
        denominator == 0 ? 0.0 : static_cast<double>(2 * tp[c]) / static_cast<double>(denominator);
  }
  return {{"accuracy", static_cast<double>(correct) / static_cast<double>(golds.size())},
          {"f1", mean(f1)}};
}

Scores rating_impl(const std::vector<std::string_view>& golds,
                   const std::vector<std::string_view>& predictions, const Ids* ids) {
  check_aligned(golds.size(), predictions.size());
  std::vector<double> abs_err(golds.size()), sq_err(golds.size());
  for (size_t i = 0; i < golds.size(); ++i) {
    const std::optional<double> gold = parse_python_float(golds[i]);
    if (!gold) {
      throw FormatError(describe_gold(i, ids) + " is not a number: \"" + std::string(golds[i]) +
                        "\"");
    }
    std::optional<double> pred = parse_python_float(predictions[i]);
    if (!pred) pred = std::abs(1.0 - *gold) > std::abs(5.0 - *gold) ? 1.0 : 5.0;
    const double d = *pred - *gold;
    abs_err[i] = std::abs(d);
    sq_err[i] = d * d;
  }
  return {{"MAE", mean(abs_err)}, {"RMSE", std::sqrt(mean(sq_err))}};
}

}  // namespace

void check_gold(Task task, std::string_view gold, const std::string& where) {
  switch (metric_family(task)) {
    case MetricFamily::kClassification: {
      const auto& labels = task_labels(task);
      const std::string_view stripped = pplug::detail::unicode::py_strip(gold);
      for (const auto& label : labels) {
        if (label == stripped) return;
      }
      throw FormatError(where + " is not a valid label: \"" + std::string(gold) + "\"");
    }
    case MetricFamily::kRating:
      if (!parse_python_float(gold)) {
        throw FormatError(where + " is not a number: \"" + std::string(gold) + "\"");
      }
      return;
    case MetricFamily::kGeneration:
      return;
  }
}

void check_golds(Task task, const std::vector<Output>& golds, const std::string& source) {
  for (size_t i = 0; i < golds.size(); ++i) {
    check_gold(task, golds[i].output,
               source + ": gold " + std::to_string(i) + " (id \"" + golds[i].id + "\")");
  }
}

Scores classification_scores(const std::vector<std::string>& labels,
                             const std::vector<std::string_view>& golds,
                             const std::vector<std::string_view>& predictions) {
  return classification_impl(labels, golds, predictions, nullptr);
}

Scores rating_scores(const std::vector<std::string_view>& golds,
                     const std::vector<std::string_view>& predictions) {
  return rating_impl(golds, predictions, nullptr);
}

Scores generation_scores(const std::vector<std::string_view>& golds,
                         const std::vector<std::string_view>& predictions) {
  check_aligned(golds.size(), predictions.size());
  std::vector<double> r1(golds.size()), rl(golds.size());
  for (size_t i = 0; i < golds.size(); ++i) {
    const auto ref = rouge_tokenize(golds[i]);
    const auto pred = rouge_tokenize(predictions[i]);
    r1[i] = rouge1_f(pred, ref);
    rl[i] = rougeL_f(pred, ref);
  }
  return {{"rouge-1", mean(r1)}, {"rouge-L", mean(rl)}};
}

Scores score(Task task, const std::vector<Output>& golds, const std::vector<Output>& predictions) {
  std::unordered_map<std::string_view, size_t> by_id;
  std::vector<std::string> duplicates;
  for (size_t i = 0; i < predictions.size(); ++i) {
    if (!by_id.emplace(predictions[i].id, i).second) duplicates.push_back(predictions[i].id);
  }
  if (!duplicates.empty())
    throw MismatchError("duplicate prediction ids: " + quoted_list(duplicates));
  std::vector<std::string> missing;
  std::vector<std::string_view> gold_text, pred_text, ids;
  ids.reserve(golds.size());
  gold_text.reserve(golds.size());
  pred_text.reserve(golds.size());
  std::unordered_map<std::string_view, bool> gold_ids;
  for (const Output& g : golds) {
    if (!gold_ids.emplace(g.id, true).second) duplicates.push_back(g.id);
    const auto it = by_id.find(g.id);
    if (it == by_id.end()) {
      missing.push_back(g.id);
      continue;
    }
    ids.push_back(g.id);
    gold_text.push_back(g.output);
    pred_text.push_back(predictions[it->second].output);
  }
  if (!duplicates.empty()) throw MismatchError("duplicate gold ids: " + quoted_list(duplicates));
  for (size_t i = 0; i < gold_text.size(); ++i)
    check_gold(task, gold_text[i], describe_gold(i, &ids));
  std::vector<std::string> extra;
  for (const Output& p : predictions) {
    if (gold_ids.count(p.id) == 0) extra.push_back(p.id);
  }
  if (!missing.empty() || !extra.empty()) {
    std::string msg = "prediction ids differ from gold ids:";
    if (!missing.empty()) {
      msg += " " + std::to_string(missing.size()) + " gold ids have no prediction (" +
             quoted_list(missing) + ")";
    }
    if (!extra.empty()) {
      msg += std::string(missing.empty() ? " " : "; ") + std::to_string(extra.size()) +
             " predicted ids are not in the golds (" + quoted_list(extra) + ")";
    }
    throw MismatchError(msg);
  }
  switch (metric_family(task)) {
    case MetricFamily::kClassification:
      return classification_impl(task_labels(task), gold_text, pred_text, &ids);
    case MetricFamily::kRating:
      return rating_impl(gold_text, pred_text, &ids);
    case MetricFamily::kGeneration:
      return generation_scores(gold_text, pred_text);
  }
  throw InvalidArgument("unknown task");
}

}  // namespace pplug::lamp
