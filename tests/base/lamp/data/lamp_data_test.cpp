#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "pplug/error.h"
#include "pplug/lamp_data.h"

namespace pplug::lamp {
namespace {

std::string temp_dir() {
  auto dir =
      std::filesystem::temp_directory_path() / ("pplug_lamp_data_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir.string();
}

// Expects FormatError whose message contains every fragment.
void expect_format_error(const std::string& json, const std::vector<std::string>& fragments,
                         const QuestionsReadOptions& options = {}) {
  try {
    parse_questions(json, "q.json", options);
    FAIL() << "no error for " << json;
  } catch (const FormatError& e) {
    const std::string msg = e.what();
    for (const auto& f : fragments) EXPECT_NE(msg.find(f), std::string::npos) << msg;
  }
}

const char* kTwoRecords = R"([
 {"id": "q1", "input": "tags: [x] description: a dog", "user_id": 7,
  "profile": [{"id": "p1", "description": "a cat", "tag": "comedy", "date": "2020-01-02"},
              {"tag": "action", "id": "p2", "description": "a \"fast\" car\n", "extra": [1, {"a": null}]}]},
 {"id": "q2", "input": "caf\u00e9 \ud83d\ude00 \ud800", "profile": [], "output": "yes"}
])";

TEST(LampData, ParsesRecordsAndKeepsUnknownFields) {
  QuestionsReadOptions options;
  options.task = Task::kLaMP2;
  const auto qs = parse_questions(kTwoRecords, "q.json", options);
  ASSERT_EQ(qs.size(), 2u);
  EXPECT_EQ(qs[0].id, "q1");
  EXPECT_EQ(qs[0].user_id, "7");
  ASSERT_EQ(qs[0].profile.size(), 2u);
  EXPECT_EQ(qs[0].profile[0].get("date"), "2020-01-02");
  EXPECT_EQ(qs[0].profile[1].id, "p2");
  EXPECT_EQ(qs[0].profile[1].get("description"), "a \"fast\" car\n");
  ASSERT_NE(qs[0].profile[1].find("extra"), nullptr);
  EXPECT_EQ(*qs[0].profile[1].find("extra"), R"([1, {"a": null}])");
  EXPECT_TRUE(qs[0].profile[1].fields.back().raw_json);
  EXPECT_EQ(qs[0].profile[1].get("missing"), "");
  // \u escapes, a surrogate pair, and a lone surrogate (-> U+FFFD).
  EXPECT_EQ(qs[1].input, "caf\xc3\xa9 \xf0\x9f\x98\x80 \xef\xbf\xbd");
  ASSERT_NE(qs[1].find_extra("output"), nullptr);
  EXPECT_EQ(*qs[1].find_extra("output"), "yes");
}

TEST(LampData, RoundTripsThroughTheWriter) {
  const auto qs = parse_questions(kTwoRecords, "q.json");
  const std::string dir = temp_dir();
  write_questions(dir + "/rt.json", qs);
  const auto again = read_questions(dir + "/rt.json");
  ASSERT_EQ(again.size(), qs.size());
  EXPECT_EQ(questions_to_json(again), questions_to_json(qs));
  EXPECT_EQ(again[0].profile[1].get("description"), "a \"fast\" car\n");
  EXPECT_EQ(again[1].input, qs[1].input);
  const auto outs = outputs_from_questions({again[1]});
  ASSERT_EQ(outs.size(), 1u);
  EXPECT_EQ(outs[0].output, "yes");
}

TEST(LampData, OutputsFromQuestionsNamesTheRecordWithoutOutput) {
  const auto qs = parse_questions(R"([{"id":"a","input":"","profile":[]}])", "q.json");
  EXPECT_THROW(outputs_from_questions(qs), FormatError);
}

TEST(LampData, SurvivesAnInputWithoutInstruction) {
  // One real LaMP-2 query has no instruction: only the description.
  const auto qs = parse_questions(
      R"([{"id":"x","input":"a movie about dogs","profile":[{"id":"1","description":"d","tag":"comedy"}]}])",
      "q.json", {Task::kLaMP2});
  EXPECT_EQ(qs[0].input, "a movie about dogs");
}

TEST(LampData, ErrorsNameFileRecordIdAndField) {
  expect_format_error("not json", {"q.json", "line 1", "expected a JSON array"});
  expect_format_error("[1]", {"record 0", "must be an object"});
  expect_format_error(R"([{"input":"a","profile":[]}])", {"record 0", "missing \"id\""});
  expect_format_error(R"([{"id":"a","profile":[]}])", {"record 0", "(id \"a\")", "\"input\""});
  expect_format_error(R"([{"id":"a","input":"b"}])", {"missing \"profile\""});
  expect_format_error(R"([{"id":5,"input":"b","profile":[]}])",
                      {"record 0", "field \"id\"", "must be a string, found number"});
  expect_format_error(R"([{"id":"a","input":["b"],"profile":[]}])",
                      {"field \"input\"", "found array"});
  expect_format_error(R"([{"id":"a","input":"b","profile":{}}])",
                      {"field \"profile\"", "must be an array"});
  expect_format_error(R"([{"id":"a","input":"b","profile":["x"]}])",
                      {"profile item 0", "must be an object"});
  expect_format_error(R"([{"id":"a","input":"b","profile":[{"id":12}]}])",
                      {"(id \"a\")", "profile item 0", "field \"id\"", "found number"});
  expect_format_error(
      R"([{"id":"a","input":"b","profile":[]},{"id":"a","input":"c","profile":[]}])",
      {"record 1", "duplicate question id \"a\"", "record 0"});
  expect_format_error(R"([{"id":"a","id":"b","input":"c","profile":[]}])", {"duplicate key"});
  expect_format_error(R"([{"id":"a","input":"b","profile":[]})", {"unexpected end of file"});
  expect_format_error(R"([{"id":"a","input":"b\x","profile":[]}])", {"invalid escape"});
  expect_format_error("[{\"id\":\"a\",\"input\":\"\xff\",\"profile\":[]}]", {"invalid UTF-8"});
  expect_format_error(R"([{"id":"a","input":"b","profile":[]}] x)", {"after the JSON value"});
  expect_format_error(R"([{"id":"a","input":"b","profile":[],"n":01}])", {"field \"n\""});
}

TEST(LampData, TaskFieldsAreRequiredWhenTheTaskIsGiven) {
  const std::string json =
      R"([{"id":"q9","input":"b","profile":[{"id":"1","text":"t","score":"5"},{"id":"2","text":"t"}]}])";
  EXPECT_NO_THROW(parse_questions(json, "q.json"));
  expect_format_error(json,
                      {"record 0", "(id \"q9\")", "profile item 1", "missing \"score\"", "LaMP_3"},
                      {Task::kLaMP3});
  expect_format_error(R"([{"id":"q","input":"b","profile":[{"id":"1","text":"t","score":5}]}])",
                      {"profile item 0", "\"score\" must be a string"}, {Task::kLaMP3});
  expect_format_error(R"([{"id":"q","input":"b","profile":[{"text":"t"}]}])", {"missing \"id\""},
                      {Task::kLaMP7});
}

TEST(LampData, ReadsOutputsAndRejectsBadOnes) {
  const auto f = parse_outputs(
      R"({"task":"LaMP-2","golds":[{"id":"a","output":"comedy"},{"output":"x","id":"b","n":1}],"other":{}})",
      "o.json");
  EXPECT_EQ(f.task, "LaMP-2");
  ASSERT_EQ(f.golds.size(), 2u);
  EXPECT_EQ(f.golds[1].id, "b");
  EXPECT_EQ(f.golds[1].output, "x");
  auto expect_error = [](const std::string& json, const std::string& fragment) {
    try {
      parse_outputs(json, "o.json");
      FAIL() << json;
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("o.json"), std::string::npos) << e.what();
    }
  };
  expect_error(R"({"task":"LaMP_2"})", "missing \"golds\"");
  expect_error(R"({"golds":[{"id":1,"output":"x"}]})", "found number");
  expect_error(R"({"golds":[{"id":"a"}]})", "missing \"output\"");
  expect_error(R"({"golds":[{"id":"a","output":"x"},{"id":"a","output":"y"}]})",
               "duplicate id \"a\"");
  expect_error(R"([])", "expected an object");
}

TEST(LampData, WritesOutputsAtomically) {
  const std::string dir = temp_dir();
  write_outputs(dir + "/o.json", Task::kLaMP3, {{"a", "5"}, {"b", "line\n\"q\""}});
  const auto f = read_outputs(dir + "/o.json");
  EXPECT_EQ(f.task, "LaMP_3");
  ASSERT_EQ(f.golds.size(), 2u);
  EXPECT_EQ(f.golds[1].output, "line\n\"q\"");
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    EXPECT_EQ(entry.path().string().find(".tmp."), std::string::npos);
  }
  EXPECT_THROW(write_outputs(dir + "/bad.json", Task::kLaMP3, {{"a", "\xff"}}), InvalidArgument);
  EXPECT_THROW(read_outputs(dir + "/missing.json"), FormatError);
}

TEST(LampData, LargeFilesReleasePagesAndStillLocateErrors) {
  // > 16 MiB so that the reader hands consumed pages back while parsing.
  std::vector<Question> qs(300);
  for (size_t i = 0; i < qs.size(); ++i) {
    qs[i].id = "q" + std::to_string(i);
    qs[i].input = "review: fine";
    for (int j = 0; j < 20; ++j) {
      ProfileItem item;
      item.id = std::to_string(j);
      item.set("text", std::string(3000, static_cast<char>('a' + j)));
      item.set("score", "4");
      qs[i].profile.push_back(std::move(item));
    }
  }
  const std::string dir = temp_dir();
  write_questions(dir + "/big.json", qs);
  const auto back = read_questions(dir + "/big.json", {Task::kLaMP3});
  ASSERT_EQ(back.size(), qs.size());
  EXPECT_EQ(back[299].profile[19].get("text"), qs[299].profile[19].get("text"));
  // The same file with the last record broken: the error still names line and record.
  std::string text = questions_to_json(qs);
  text.replace(text.rfind("\"score\":\"4\""), 11, "\"score\":44");
  std::ofstream(dir + "/bad.json") << text;
  try {
    read_questions(dir + "/bad.json", {Task::kLaMP3});
    FAIL();
  } catch (const FormatError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("line 301"), std::string::npos) << msg.substr(0, 300);
    EXPECT_NE(msg.find("record 299 (id \"q299\"), profile item 19"), std::string::npos)
        << msg.substr(0, 300);
  }
  std::filesystem::remove(dir + "/big.json");
  std::filesystem::remove(dir + "/bad.json");
}

TEST(LampTask, ParsesBothSpellings) {
  EXPECT_EQ(parse_task("LaMP_2"), Task::kLaMP2);
  EXPECT_EQ(parse_task("LaMP-2"), Task::kLaMP2);
  EXPECT_EQ(parse_task("lamp_7"), Task::kLaMP7);
  EXPECT_EQ(parse_task("LongLaMP-3"), Task::kLongLaMP3);
  EXPECT_EQ(task_name(Task::kLaMP5), "LaMP_5");
  EXPECT_EQ(task_name(Task::kLongLaMP2), "LongLaMP_2");
  EXPECT_THROW(parse_task("LaMP_8"), InvalidArgument);
  EXPECT_THROW(parse_task("LaMP2"), InvalidArgument);
  EXPECT_THROW(parse_task(""), InvalidArgument);
  EXPECT_EQ(task_labels(Task::kLaMP2).size(), 15u);
  EXPECT_EQ(task_labels(Task::kLaMP1), (std::vector<std::string>{"[1]", "[2]"}));
  EXPECT_EQ(metric_family(Task::kLongLaMP1), MetricFamily::kGeneration);
}

}  // namespace
}  // namespace pplug::lamp
