#include <gtest/gtest.h>

#include "pplug/error.h"
#include "pplug/lamp_prompt.h"

namespace pplug::lamp {
namespace {

ProfileItem item(std::vector<std::pair<std::string, std::string>> fields) {
  ProfileItem it;
  it.id = "i";
  for (auto& [k, v] : fields) it.set(k, v);
  return it;
}

std::string words(int n, const std::string& stem) {
  std::string s;
  for (int i = 1; i <= n; ++i) s += (i > 1 ? " " : "") + stem + std::to_string(i);
  return s;
}

TEST(LampPrompt, WhitespaceCounterRoundTrips) {
  WhitespaceTokenCounter c;
  const auto ids = c.encode(" a  b\nc a ");
  EXPECT_EQ(ids.size(), 4u);
  EXPECT_EQ(ids[0], ids[3]);
  EXPECT_EQ(c.decode(ids), "a b c a");
  EXPECT_EQ(c.decode({ids[0], ids[1]}), "a b");
  EXPECT_THROW(c.decode({999}), InvalidArgument);
}

TEST(LampPrompt, TruncatesTheLongFieldOfEachItem) {
  // L 20, input 3 words: B = 20 - min(3, 12) = 17; b = (17 - 1 - 2) // 2 = 7; the template
  // `5 is the score for "" ` is 6 words, so each text keeps 1 word.
  WhitespaceTokenCounter c;
  const ProfileItem a = item({{"text", "a b c d e f"}, {"score", "5"}});
  const ProfileItem b = item({{"text", "g h"}, {"score", "1"}});
  EXPECT_EQ(build_prompt(Task::kLaMP3, "review: x y", {&a, &b}, 20, c),
            "5 is the score for \"a\" , and 1 is the score for \"g\" . review: x y");
}

TEST(LampPrompt, UnusedBudgetCarriesToTheNextItem) {
  // L 40: B 37, b 17. Item 1 uses 6 + 6 of 17, so item 2 may use 17 + 5 - 6 = 16 words.
  WhitespaceTokenCounter c;
  const ProfileItem a = item({{"text", words(6, "a")}, {"score", "5"}});
  const ProfileItem b = item({{"text", words(14, "w")}, {"score", "1"}});
  EXPECT_EQ(build_prompt(Task::kLaMP3, "review: x y", {&a, &b}, 40, c),
            "5 is the score for \"" + words(6, "a") + "\" , and 1 is the score for \"" +
                words(14, "w") + "\" . review: x y");
  // Without carry (first item long) the second is cut to 17 - 6 = 11 words.
  const ProfileItem longer = item({{"text", words(30, "a")}, {"score", "5"}});
  EXPECT_EQ(build_prompt(Task::kLaMP3, "review: x y", {&longer, &b}, 40, c),
            "5 is the score for \"" + words(11, "a") + "\" , and 1 is the score for \"" +
                words(11, "w") + "\" . review: x y");
}

// Counts the bytes it is asked to encode (a stand-in for a real tokenizer's cost).
class MeteredCounter final : public TokenCounter {
 public:
  std::vector<int> encode(const std::string& text) const override {
    bytes += text.size();
    return words_.encode(text);
  }
  std::string decode(const std::vector<int>& ids) const override { return words_.decode(ids); }
  mutable size_t bytes = 0;

 private:
  WhitespaceTokenCounter words_;
};

TEST(LampPrompt, EncodePrefixEncodesOnlyWhatTheBudgetNeeds) {
  MeteredCounter c;
  const std::string text = words(200000, "w");  // ~1.3 MB
  const TokenPrefix p = encode_prefix(c, text, 10);
  EXPECT_TRUE(p.truncated);
  EXPECT_EQ(c.decode(p.ids), words(10, "w"));
  EXPECT_LT(c.bytes, 4096u);
  const TokenPrefix all = encode_prefix(c, "a b c", 10);
  EXPECT_FALSE(all.truncated);
  EXPECT_EQ(all.ids.size(), 3u);
  const TokenPrefix exact = encode_prefix(c, "a b c", 3);
  EXPECT_FALSE(exact.truncated);
  EXPECT_TRUE(encode_prefix(c, "a b c", 2).truncated);
  // One huge word is one word-token however long: the prefix grows geometrically until it
  // holds the word, so the work stays within a small multiple of the text.
  c.bytes = 0;
  const std::string huge = std::string(1 << 20, 'x') + " y";
  const TokenPrefix word = encode_prefix(c, huge, 1);
  EXPECT_TRUE(word.truncated);
  EXPECT_EQ(c.decode(word.ids), std::string(1 << 20, 'x'));
  EXPECT_LT(c.bytes, 4 * huge.size());
}

// A huge input and a huge profile field cost work in proportion to the budget, not to their size
// (the `prompt` verb on a 50 MB input used to tokenize all of it), and give the same prompt.
TEST(LampPrompt, HugeInputsAreNotTokenizedWhole) {
  // L 64, input > 38 words: B = 64 - 38 = 26; b = 25; the template is 6 words: 19 words kept.
  MeteredCounter metered;
  const std::string input = "review: " + words(300000, "x");  // ~2 MB
  const ProfileItem a = item({{"text", words(300000, "t")}, {"score", "5"}});
  const std::string prompt = build_prompt(Task::kLaMP3, input, {&a}, 64, metered);
  EXPECT_LT(metered.bytes, 64u * 1024);
  EXPECT_TRUE(prompt == "5 is the score for \"" + words(19, "t") + "\" . " + input)
      << prompt.substr(0, 200);
}

TEST(LampPrompt, TemplatesPerTask) {
  WhitespaceTokenCounter c;
  const ProfileItem p = item(
      {{"title", "T"}, {"text", "X"}, {"abstract", "A"}, {"description", "D"}, {"tag", "comedy"}});
  const std::string lamp1 =
      "For an author who has written the paper with the title \"Q\", which reference is related?";
  EXPECT_EQ(build_prompt(Task::kLaMP1, lamp1, {&p, &p}, 256, c),
            "For an author who has written the paper with the title, and \"T\", and \"T\" \"Q\", "
            "which reference is related?");
  EXPECT_EQ(build_prompt(Task::kLaMP1, "no marker", {&p}, 256, c), "no marker");
  EXPECT_EQ(build_prompt(Task::kLaMP2, "IN", {&p}, 256, c),
            "the tag for the movie: \"D\" is \"comedy\" . IN");
  EXPECT_EQ(build_prompt(Task::kLaMP3, "IN", {&p}, 256, c), " is the score for \"X\" . IN");
  EXPECT_EQ(build_prompt(Task::kLaMP4, "IN", {&p}, 256, c), "\"T\" is the title for \"X\" . IN");
  EXPECT_EQ(build_prompt(Task::kLaMP5, "IN", {&p}, 256, c),
            "\"T\" is a title for \"A\" . Following the given patterns IN");
  EXPECT_EQ(build_prompt(Task::kLaMP6, "IN", {&p}, 256, c), "\"T\" is the title for \"X\" . IN");
  EXPECT_EQ(build_prompt(Task::kLaMP7, "IN", {&p, &p}, 256, c),
            "\"X\" , and \"X\"  are written by a person. Following the given patterns IN");
  EXPECT_EQ(build_prompt(Task::kLaMP7, "IN", {}, 256, c), "IN");
  EXPECT_THROW(build_prompt(Task::kLongLaMP2, "IN", {&p}, 256, c), InvalidArgument);
  EXPECT_THROW(build_prompt(Task::kLaMP7, "IN", {&p}, 0, c), InvalidArgument);
}

TEST(LampPrompt, ShrinksTheInputShareWhenItemsDoNotFit) {
  // L 20, input 30 words: f .6 gives B 8, b 7 < the 8-word LaMP-2 template; f .5 gives B 10,
  // b 9, so the description keeps 1 word.
  WhitespaceTokenCounter c;
  const ProfileItem p = item({{"description", "d1 d2 d3"}, {"tag", "comedy"}});
  const std::string input = words(30, "x");
  EXPECT_EQ(build_prompt(Task::kLaMP2, input, {&p}, 20, c),
            "the tag for the movie: \"d1\" is \"comedy\" . " + input);
  // Nothing fits at any share: the input alone.
  EXPECT_EQ(build_prompt(Task::kLaMP2, input, {&p}, 5, c), input);
}

TEST(LampPrompt, RagPromptRetrievesThenBuilds) {
  WhitespaceTokenCounter c;
  Question q;
  q.id = "q1";
  q.input = "Paraphrase the following tweet: dog fast";
  for (const char* t : {"the cat sat", "the dog sat", "the dog ran fast"}) {
    q.profile.push_back(item({{"text", t}}));
  }
  PromptOptions o;
  o.k = 1;
  EXPECT_EQ(
      make_rag_prompt(Task::kLaMP7, q, o, c),
      "\"the dog ran fast\"  are written by a person. Following the given patterns " + q.input);
  o.k = 0;
  EXPECT_EQ(make_rag_prompt(Task::kLaMP7, q, o, c), q.input);
  o.k = 2;
  o.method = RetrievalMethod::kRecency;
  EXPECT_EQ(rag_prompts_jsonl(Task::kLaMP7, {q}, o, c),
            "{\"id\":\"q1\",\"prompt\":\"\\\"the dog ran fast\\\" , and \\\"the dog sat\\\"  are "
            "written by a person. Following the given patterns Paraphrase the following tweet: "
            "dog fast\"}\n");
}

}  // namespace
}  // namespace pplug::lamp
