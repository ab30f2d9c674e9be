// read_labelled_split: the checks `pplug train` makes on its files, now library policy.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "pplug/error.h"
#include "pplug/lamp_training.h"
#include "support/test_models.h"

namespace pplug {
namespace {

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(LampTraining, ReadLabelledSplitChecksTaskLabelsAndIds) {
  const std::string dir = testing::temp_dir("lamp_training");
  const std::string questions = dir + "/questions.json";
  write(
      questions,
      R"([{"id": "1", "input": "rate: good", "profile": [{"id": "p1", "text": "a", "score": "5"}]},
                      {"id": "2", "input": "rate: bad", "profile": [{"id": "p2", "text": "b", "score": "1"}]}])");
  const std::string golds = dir + "/golds.json";
  write(golds,
        R"({"task": "LaMP_3", "golds": [{"id": "1", "output": "5"}, {"id": "2", "output": "1"}]})");
  const auto split = read_labelled_split(questions, golds, lamp::Task::kLaMP3);
  ASSERT_EQ(split.questions.size(), 2u);
  ASSERT_EQ(split.golds.size(), 2u);
  EXPECT_EQ(split.golds[1].output, "1");

  const auto message = [&](const std::string& outputs, lamp::Task task) -> std::string {
    try {
      read_labelled_split(questions, outputs, task);
    } catch (const Error& e) {
      return e.what();
    }
    return "accepted";
  };
  const std::string other_task = dir + "/other_task.json";
  write(other_task, R"({"task": "LaMP_2", "golds": [{"id": "1", "output": "5"}]})");
  EXPECT_NE(message(other_task, lamp::Task::kLaMP3)
                .find(other_task + ": task is LaMP_2, but the task asked for (--task) is LaMP_3"),
            std::string::npos)
      << message(other_task, lamp::Task::kLaMP3);
  const std::string other_ids = dir + "/other_ids.json";
  write(other_ids,
        R"({"task": "LaMP_3", "golds": [{"id": "1", "output": "5"}, {"id": "9", "output": "2"}]})");
  const std::string ids = message(other_ids, lamp::Task::kLaMP3);
  EXPECT_NE(ids.find(questions + " and " + other_ids +
                     " have different ids: 2 (no gold) 9 (no question)"),
            std::string::npos)
      << ids;
  const std::string bad_label = dir + "/bad_label.json";
  write(
      bad_label,
      R"({"task": "LaMP_3", "golds": [{"id": "1", "output": "banana"}, {"id": "2", "output": "1"}]})");
  EXPECT_NE(message(bad_label, lamp::Task::kLaMP3).find("banana"), std::string::npos);
}

}  // namespace
}  // namespace pplug
