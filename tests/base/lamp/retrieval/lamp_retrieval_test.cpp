#include <gtest/gtest.h>

#include <cmath>

#include "pplug/error.h"
#include "pplug/lamp_retrieval.h"

namespace pplug::lamp {
namespace {

ProfileItem item(std::string id, std::vector<std::pair<std::string, std::string>> fields) {
  ProfileItem it;
  it.id = std::move(id);
  for (auto& [k, v] : fields) it.set(k, v);
  return it;
}

TEST(LampBm25, MatchesRankBm25HandComputed) {
  // idf: the ln(.5/3.5) < 0, cat ln(2.5/1.5), sat/dog ln(1.5/2.5) < 0, ran/fast ln(2.5/1.5);
  // mean idf -0.2391807542148871, so negative idfs become 0.25 * mean = -0.0597951885537218.
  const Bm25Okapi bm25(
      {{"the", "cat", "sat"}, {"the", "dog", "sat"}, {"the", "dog", "ran", "fast"}});
  EXPECT_DOUBLE_EQ(bm25.average_idf(), -0.23918075421488708);
  EXPECT_DOUBLE_EQ(bm25.idf("the"), -0.05979518855372177);
  EXPECT_DOUBLE_EQ(bm25.idf("cat"), std::log(2.5) - std::log(1.5));
  EXPECT_EQ(bm25.idf("unknown"), 0.0);
  EXPECT_DOUBLE_EQ(bm25.average_length(), 10.0 / 3);
  auto s = bm25.scores({"dog", "fast"});
  EXPECT_EQ(s[0], 0.0);
  EXPECT_DOUBLE_EQ(s[1], -0.06261276288347829);
  EXPECT_DOUBLE_EQ(s[2], 0.4137893901029991);
  // Query duplicates count twice.
  s = bm25.scores({"cat", "cat", "the"});
  EXPECT_DOUBLE_EQ(s[0], 1.007179119348963);
  EXPECT_DOUBLE_EQ(s[1], -0.06261276288347829);
  EXPECT_DOUBLE_EQ(s[2], -0.054857971150203466);
  EXPECT_EQ(rank_by_score(s), (std::vector<size_t>{0, 2, 1}));
}

TEST(LampBm25, TiesPutLaterItemsFirst) {
  EXPECT_EQ(rank_by_score({0, 0, 0}), (std::vector<size_t>{2, 1, 0}));
  EXPECT_EQ(rank_by_score({1, 2, 1, 2}), (std::vector<size_t>{3, 1, 2, 0}));
  // Degenerate corpora do not throw: empty profile, only empty documents.
  EXPECT_TRUE(Bm25Okapi(std::vector<std::vector<std::string>>()).scores({"a"}).empty());
  EXPECT_EQ(Bm25Okapi(std::vector<std::vector<std::string>>(2)).scores({"a"}),
            (std::vector<double>{0, 0}));
}

TEST(LampBm25, WhitespaceTokensArePythonSplit) {
  EXPECT_EQ(whitespace_tokens(" A  b\u3000c\td,\n"),
            (std::vector<std::string>{"A", "b", "c", "d,"}));
  EXPECT_TRUE(whitespace_tokens(" \xc2\xa0 ").empty());
}

TEST(LampRetrieval, QueriesPerTask) {
  const std::string lamp1 =
      "For an author who has written the paper with the title \"T t\", which reference is "
      "related? Just answer with [1] or [2] without explanation. [1]: \"R one\" [2]: \"R two\"";
  EXPECT_EQ(retrieval_query(Task::kLaMP1, lamp1), "R one R two");
  EXPECT_EQ(retrieval_query(Task::kLaMP1, "no quotes "), "no quotes");
  EXPECT_EQ(retrieval_query(Task::kLaMP2, "tags: [a] description: a dog. "), "a dog.");
  // The real LaMP-2 record without instruction: the whole input.
  EXPECT_EQ(retrieval_query(Task::kLaMP2, " a movie about dogs "), "a movie about dogs");
  EXPECT_EQ(retrieval_query(Task::kLaMP3, "a scale: 1 review: good toy"), "good toy");
  EXPECT_EQ(retrieval_query(Task::kLaMP4, "headline: the article: x y"), "x y");
  EXPECT_EQ(retrieval_query(Task::kLaMP5, "paper: a: b"), "a: b");
  EXPECT_EQ(retrieval_query(Task::kLaMP7, "tweet: hi: there"), "hi: there");
  EXPECT_THROW(retrieval_query(Task::kLongLaMP2, "x"), InvalidArgument);
}

TEST(LampRetrieval, DocumentsPerTask) {
  const ProfileItem it =
      item("1", {{"title", "T"}, {"abstract", "A"}, {"text", "X"}, {"description", "D"}});
  EXPECT_EQ(retrieval_document(Task::kLaMP1, it), "T A");
  EXPECT_EQ(retrieval_document(Task::kLaMP2, it), "D");
  EXPECT_EQ(retrieval_document(Task::kLaMP3, it), "X");
  EXPECT_EQ(retrieval_document(Task::kLaMP4, it), "T X");
  EXPECT_EQ(retrieval_document(Task::kLaMP5, it), "T A");
  EXPECT_EQ(retrieval_document(Task::kLaMP7, it), "X");
}

TEST(LampRetrieval, RecencyNewestFirstUndatedLast) {
  Question q;
  q.id = "q";
  q.input = "x";
  q.profile = {item("p0", {{"date", "2020-01-05"}}), item("p1", {}),
               item("p2", {{"date", "2021-1-2"}}),   item("p3", {{"date", "2020-01-05"}}),
               item("p4", {{"date", "garbage"}}),    item("p5", {{"date", "2020-12-31"}})};
  EXPECT_EQ(rank_profile(Task::kLaMP7, q, RetrievalMethod::kRecency),
            (std::vector<size_t>{2, 5, 3, 0, 4, 1}));
  EXPECT_EQ(rank_profile(Task::kLaMP7, q, RetrievalMethod::kRecency, 2),
            (std::vector<size_t>{2, 5}));
}

TEST(LampRetrieval, Bm25OverTheProfile) {
  Question q;
  q.id = "q1";
  q.input = "Paraphrase the following tweet: dog fast";
  q.profile = {item("a", {{"text", "the cat sat"}}), item("b", {{"text", "the dog sat"}}),
               item("c", {{"text", "the dog ran fast"}})};
  EXPECT_EQ(rank_profile(Task::kLaMP7, q, RetrievalMethod::kBm25), (std::vector<size_t>{2, 0, 1}));
  EXPECT_EQ(rank_profile(Task::kLaMP7, q, RetrievalMethod::kBm25, 1), (std::vector<size_t>{2}));
  Question empty = q;
  empty.id = "q\"2";
  empty.profile.clear();
  EXPECT_TRUE(rank_profile(Task::kLaMP7, empty, RetrievalMethod::kBm25).empty());
  EXPECT_EQ(retrieval_json(Task::kLaMP7, {q, empty}, RetrievalMethod::kBm25, 2),
            "{\n\"q1\":[\"c\",\"a\"],\n\"q\\\"2\":[]\n}\n");
  EXPECT_EQ(parse_retrieval_method("recency"), RetrievalMethod::kRecency);
  EXPECT_THROW(parse_retrieval_method("contriever"), InvalidArgument);
}

}  // namespace
}  // namespace pplug::lamp
