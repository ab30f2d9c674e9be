// The official LaMP / LongLaMP metrics, ported exactly (see docs/lamp.md):
//   LaMP-1, LaMP-2: "accuracy", "f1" (macro over all labels);
//   LaMP-3:         "MAE", "RMSE" (Python float() parsing, farther-extreme fallback);
//   LaMP-4..7, LongLaMP: "rouge-1", "rouge-L" (F-measure, no stemming, mean over examples).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pplug/lamp_data.h"
#include "pplug/lamp_task.h"

namespace pplug::lamp {

// Metric name -> value, with the official key names.
using Scores = std::map<std::string, double>;

// Scores predictions against golds of `task`, pairing them by id. Throws MismatchError when the
// id sets differ (the message lists some missing and extra ids) and FormatError when a gold is
// not a valid label (LaMP-1/2) or not a number (LaMP-3).
Scores score(Task task, const std::vector<Output>& golds, const std::vector<Output>& predictions);

// Throws FormatError("<where> is not a valid label: ...") / ("... is not a number: ...") when
// `gold` is not a gold output of `task`: one of its labels (LaMP-1/2, stripped) or a number
// (LaMP-3, Python float()). Any text is a valid gold of a generation task. score() checks every
// gold with it; training checks its golds with it too, so a file score() would refuse is never
// trained on.
void check_gold(Task task, std::string_view gold, const std::string& where);
// check_gold() on every gold; messages read "<source>: gold i (id "...") ...".
void check_golds(Task task, const std::vector<Output>& golds, const std::string& source);

// Reads both files and scores them. The task named in each file (when present) must equal
// `task` (MismatchError otherwise). `task_name_or_empty` empty: the golds file's task is used.
Scores score_files(const std::string& task_name_or_empty, const std::string& golds_path,
                   const std::string& predictions_path);

// One JSON object {"accuracy": 0.5, "f1": 0.4} (shortest round-trip numbers; NaN and
// infinities, possible for LaMP-3 predictions such as "nan", are written as null).
std::string scores_to_json(const Scores& scores);

// Accuracy and macro-F1 of aligned predictions/golds over `labels` (index = class id). Both
// sides are stripped (Python str.strip()); a prediction that is not exactly a label is wrong and
// adds a false negative to the gold's class only. Throws FormatError on an invalid gold.
Scores classification_scores(const std::vector<std::string>& labels,
                             const std::vector<std::string_view>& golds,
                             const std::vector<std::string_view>& predictions);
// MAE and RMSE of aligned ratings; unparsable predictions count as whichever of 1.0 / 5.0 is
// farther from the gold (5.0 on a tie). Throws FormatError on an unparsable gold.
Scores rating_scores(const std::vector<std::string_view>& golds,
                     const std::vector<std::string_view>& predictions);
// Mean ROUGE-1 and ROUGE-L F-measures of aligned texts.
Scores generation_scores(const std::vector<std::string_view>& golds,
                         const std::vector<std::string_view>& predictions);

// Python's float(str.strip(text)): sign, digits with optional point, exponent, "inf",
// "infinity", "nan" (any case), '_' between digits, any Unicode decimal digit. nullopt when
// Python would raise ValueError.
std::optional<double> parse_python_float(std::string_view text);

// rouge_score's tokenizer without stemming: lowercase, runs outside [a-z0-9] -> separator.
std::vector<std::string> rouge_tokenize(std::string_view text);
// F-measures on token lists (prediction first, as in the scorer).
double rouge1_f(const std::vector<std::string>& prediction,
                const std::vector<std::string>& reference);
double rougeL_f(const std::vector<std::string>& prediction,
                const std::vector<std::string>& reference);

}  // namespace pplug::lamp
