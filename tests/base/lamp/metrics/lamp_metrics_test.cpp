#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "pplug/error.h"
#include "pplug/lamp_metrics.h"

namespace pplug::lamp {
namespace {

using Views = std::vector<std::string_view>;

TEST(LampMetrics, ClassificationHandComputed) {
  // LaMP-2: Unicode whitespace is stripped (ideographic space, NBSP); case matters; an invalid
  // prediction adds only a false negative to the gold's class.
  const auto s = classification_scores(task_labels(Task::kLaMP2),
                                       Views{"comedy", "comedy",
                                             "\xc2\xa0"
                                             "action\n",
                                             "romance"},
                                       Views{" comedy\xe3\x80\x80", "Comedy", "comedy", "xyz"});
  EXPECT_DOUBLE_EQ(s.at("accuracy"), 0.25);
  // F1: comedy 2/(2+1+1) = 0.5, action 0, romance 0, 12 classes absent (0).
  EXPECT_DOUBLE_EQ(s.at("f1"), 0.5 / 15);
}

TEST(LampMetrics, ClassificationMacroIsOverAllLabels) {
  const auto& labels = task_labels(Task::kLaMP1);
  // "[2]" never occurs: its F1 is 0 and still counts.
  auto s = classification_scores(labels, Views{"[1]"}, Views{"[1]"});
  EXPECT_DOUBLE_EQ(s.at("accuracy"), 1.0);
  EXPECT_DOUBLE_EQ(s.at("f1"), 0.5);
  // A class absent from the golds but predicted: F1 0/(0+1+0).
  s = classification_scores(labels, Views{"[1]", "[1]"}, Views{"[1]", "[2]"});
  EXPECT_DOUBLE_EQ(s.at("accuracy"), 0.5);
  EXPECT_DOUBLE_EQ(s.at("f1"), (2.0 / 3.0 + 0.0) / 2);
  // "2" is not a label: F1[1] = 2/(2+1) , F1[2] = 0/(0+0+2).
  s = classification_scores(labels, Views{"[1]", "[2]", "[2]"}, Views{"[1]", "[1]", "2"});
  EXPECT_DOUBLE_EQ(s.at("accuracy"), 1.0 / 3);
  EXPECT_DOUBLE_EQ(s.at("f1"), (2.0 / 3.0) / 2);
  // Empty predictions are invalid labels.
  s = classification_scores(labels, Views{"[1]"}, Views{""});
  EXPECT_DOUBLE_EQ(s.at("accuracy"), 0.0);
  EXPECT_DOUBLE_EQ(s.at("f1"), 0.0);
  EXPECT_THROW(classification_scores(labels, Views{"[3]"}, Views{"[1]"}), FormatError);
}

TEST(LampMetrics, PythonFloatSemantics) {
  struct Case {
    const char* text;
    double value;
  };
  const Case ok[] = {{"4.", 4},
                     {"1e0", 1},
                     {"1_0", 10},
                     {"\xef\xbc\x94", 4},  // full-width 4
                     {"1_000.5", 1000.5},
                     {" +1.5E+1 ", 15},
                     {"-.5", -0.5},
                     {"\xc2\xa0"
                      "5\xe2\x80\xa8",
                      5},                              // NBSP, LINE SEPARATOR
                     {"\xef\xbc\x95\xe3\x80\x80", 5},  // full-width 5, ideographic space
                     {"\xd9\xa3", 3},                  // Arabic-Indic 3
                     {"\xd9\xa1_\xd9\xa0", 10},        // Arabic-Indic 1_0
                     {"\xd9\xa5.\xd9\xa5", 5.5},       // Arabic-Indic 5.5
                     {"\x1c"
                      "5",
                      5},
                     {"5\xc2\x85", 5},
                     {"1e1_0", 1e10},
                     {"1.e1", 10},
                     {"1e-400", 0},
                     {"007", 7}};
  for (const Case& c : ok) {
    const auto v = parse_python_float(c.text);
    ASSERT_TRUE(v.has_value()) << c.text;
    EXPECT_EQ(*v, c.value) << c.text;
  }
  EXPECT_EQ(*parse_python_float("Infinity"), HUGE_VAL);
  EXPECT_EQ(*parse_python_float("-iNf"), -HUGE_VAL);
  EXPECT_EQ(*parse_python_float("1e400"), HUGE_VAL);
  EXPECT_TRUE(std::isnan(*parse_python_float("nan")));
  EXPECT_TRUE(std::isnan(*parse_python_float("+NaN")));
  const char* bad[] = {"x",
                       "1__0",
                       "_1",
                       "1_",
                       ".",
                       "1e",
                       "0x10",
                       "5 5",
                       "",
                       "   ",
                       "1._5",
                       "+-1",
                       "infinit",
                       "in_f",
                       "\xe2\x80\x8b"
                       "5",  // ZERO WIDTH SPACE is not whitespace
                       "nan(1)",
                       "1,5",
                       "five",
                       "\xff"};
  for (const char* b : bad) EXPECT_FALSE(parse_python_float(b).has_value()) << b;
  EXPECT_FALSE(parse_python_float(std::string_view("5\0", 2)).has_value());
}

TEST(LampMetrics, RatingHandComputed) {
  // 4. -> 4 (err 1); 1e0 -> 1 (4); "x" with gold 1 -> 5.0 (4); 1_0 -> 10 (6); full-width 4 (2).
  const auto s =
      rating_scores(Views{"3", "5", "1", "4", "2"}, Views{"4.", "1e0", "x", "1_0", "\xef\xbc\x94"});
  EXPECT_DOUBLE_EQ(s.at("MAE"), 17.0 / 5);
  EXPECT_DOUBLE_EQ(s.at("RMSE"), std::sqrt(73.0 / 5));
}

TEST(LampMetrics, RatingFallsBackToTheFartherExtreme) {
  // Gold 3 is a tie: 5.0. Gold 5 -> 1.0. Gold 1 -> 5.0. Gold 2 -> 5.0. Gold 4 -> 1.0.
  const auto s = rating_scores(Views{"3", "5", "1", "2", "4"},
                               Views{"", "five", "\xe2\x80\x8b", "5 5", "1__0"});
  EXPECT_DOUBLE_EQ(s.at("MAE"), (2.0 + 4 + 4 + 3 + 3) / 5);
  EXPECT_DOUBLE_EQ(s.at("RMSE"), std::sqrt((4.0 + 16 + 16 + 9 + 9) / 5));
  EXPECT_TRUE(std::isnan(rating_scores(Views{"3"}, Views{"nan"}).at("MAE")));
  EXPECT_EQ(rating_scores(Views{"3"}, Views{"-inf"}).at("RMSE"), HUGE_VAL);
  EXPECT_THROW(rating_scores(Views{"three"}, Views{"3"}), FormatError);
}

TEST(LampMetrics, RougeTokenizer) {
  using T = std::vector<std::string>;
  EXPECT_EQ(rouge_tokenize("Hello, World-2024!"), (T{"hello", "world", "2024"}));
  EXPECT_EQ(rouge_tokenize("na\xc3\xafve caf\xc3\xa9"), (T{"na", "ve", "caf"}));
  EXPECT_EQ(rouge_tokenize("\xe2\x84\xaaid"), (T{"kid"}));            // KELVIN SIGN lowercases to k
  EXPECT_EQ(rouge_tokenize("\xc4\xb0stanbul"), (T{"i", "stanbul"}));  // I-dot -> i + U+0307
  EXPECT_EQ(rouge_tokenize("!!! ... --"), T{});
  EXPECT_EQ(rouge_tokenize(""), T{});
}

TEST(LampMetrics, RougeHandComputed) {
  auto r1 = [](const char* p, const char* r) {
    return rouge1_f(rouge_tokenize(p), rouge_tokenize(r));
  };
  auto rl = [](const char* p, const char* r) {
    return rougeL_f(rouge_tokenize(p), rouge_tokenize(r));
  };
  EXPECT_DOUBLE_EQ(r1("The cat sat on the mat!", "the cat is on the mat"), 5.0 / 6);
  EXPECT_DOUBLE_EQ(rl("The cat sat on the mat!", "the cat is on the mat"), 5.0 / 6);
  EXPECT_DOUBLE_EQ(r1("a b c d", "d c b a"), 1.0);
  EXPECT_DOUBLE_EQ(rl("a b c d", "d c b a"), 0.25);
  EXPECT_DOUBLE_EQ(r1("the the the", "the cat"), 0.4);  // P 1/3, R 1/2
  EXPECT_DOUBLE_EQ(rl("the the the", "the cat"), 0.4);
  EXPECT_EQ(r1("!!!", "a b"), 0.0);
  EXPECT_EQ(rl("!!!", "a b"), 0.0);
  EXPECT_EQ(r1("", ""), 0.0);
  EXPECT_EQ(rl("", ""), 0.0);
  const auto s = generation_scores(Views{"the cat is on the mat", "d c b a", "a b"},
                                   Views{"The cat sat on the mat!", "a b c d", "..."});
  EXPECT_DOUBLE_EQ(s.at("rouge-1"), 11.0 / 18);
  EXPECT_DOUBLE_EQ(s.at("rouge-L"), 13.0 / 36);
}

TEST(LampMetrics, ScorePairsByIdAndReportsMismatches) {
  const std::vector<Output> golds = {{"a", "[1]"}, {"b", "[2]"}, {"c", "[2]"}};
  const std::vector<Output> preds = {{"b", "[2]"}, {"a", "[2]"}, {"c", "[2]"}};
  const auto s = score(Task::kLaMP1, golds, preds);
  EXPECT_DOUBLE_EQ(s.at("accuracy"), 2.0 / 3);
  try {
    score(Task::kLaMP1, golds, {{"a", "[1]"}, {"b", "[2]"}, {"zz", "[1]"}});
    FAIL();
  } catch (const MismatchError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("\"c\""), std::string::npos) << msg;
    EXPECT_NE(msg.find("\"zz\""), std::string::npos) << msg;
  }
  EXPECT_THROW(score(Task::kLaMP1, golds, {{"a", "[1]"}, {"a", "[1]"}, {"b", "[1]"}}),
               MismatchError);
  try {
    score(Task::kLaMP2, {{"q7", "cats"}}, {{"q7", "comedy"}});
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("q7"), std::string::npos) << e.what();
  }
  EXPECT_EQ(score(Task::kLaMP3, {{"a", "3"}}, {{"a", "4"}}).at("MAE"), 1.0);
  EXPECT_EQ(score(Task::kLongLaMP2, {{"a", "x y"}}, {{"a", "x y"}}).at("rouge-L"), 1.0);
  EXPECT_THROW(score(Task::kLaMP3, {}, {}), InvalidArgument);
}

TEST(LampMetrics, ScoreFilesChecksTasks) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("pplug_lamp_metrics_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string golds = (dir / "golds.json").string();
  const std::string preds = (dir / "preds.json").string();
  write_outputs(golds, Task::kLaMP3, {{"a", "3"}, {"b", "5"}});
  write_outputs(preds, Task::kLaMP3, {{"b", "4"}, {"a", "3"}});
  auto s = score_files("LaMP-3", golds, preds);
  EXPECT_DOUBLE_EQ(s.at("MAE"), 0.5);
  EXPECT_EQ(scores_to_json(s), "{\"MAE\": 0.5, \"RMSE\": 0.7071067811865476}");
  s = score_files("", golds, preds);  // the task from the golds file
  EXPECT_DOUBLE_EQ(s.at("MAE"), 0.5);
  EXPECT_THROW(score_files("LaMP_2", golds, preds), MismatchError);
  EXPECT_THROW(score_files("LaMP_9", golds, preds), InvalidArgument);
  write_outputs(preds, Task::kLaMP4, {{"b", "4"}, {"a", "3"}});
  EXPECT_THROW(score_files("LaMP_3", golds, preds), MismatchError);
  EXPECT_EQ(scores_to_json({{"MAE", NAN}}), "{\"MAE\": null}");
}

}  // namespace
}  // namespace pplug::lamp
