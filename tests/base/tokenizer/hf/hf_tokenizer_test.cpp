// Whole tokenizers built from hand-made tokenizer.json text: BPE options, added tokens,
// WordPiece, BOS/EOS from the files beside tokenizer.json, and load errors.
#include "tokenizer/hf/hf_tokenizer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pplug/error.h"
#include "util/file_io.h"

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using pplug::hf::HfTokenizer;
using Ids = std::vector<int>;

// A BPE tokenizer whose vocabulary is `tokens` (id = index) with `merges`.
Json bpe(const std::vector<std::string>& tokens, const Json& merges) {
  Json vocab = Json::object();
  for (std::size_t i = 0; i < tokens.size(); ++i) vocab[tokens[i]] = i;
  return {{"version", "1.0"},
          {"added_tokens", Json::array()},
          {"normalizer", nullptr},
          {"pre_tokenizer", nullptr},
          {"post_processor", nullptr},
          {"decoder", nullptr},
          {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}}}};
}

HfTokenizer make(const Json& j) { return HfTokenizer::from_json(j.dump(), "tiny.json"); }

// Every printable ASCII character as its own token (id = code - 32), no merges.
Json ascii() {
  std::vector<std::string> tokens;
  for (char c = 32; c < 127; ++c) tokens.emplace_back(1, c);
  return bpe(tokens, Json::array());
}

Ids chars(const std::string& text) {
  Ids ids;
  for (char c : text) ids.push_back(c - 32);
  return ids;
}

Json added(int id, const std::string& content, bool special = true) {
  return {{"id", id},        {"content", content},  {"single_word", false}, {"lstrip", false},
          {"rstrip", false}, {"normalized", false}, {"special", special}};
}

TEST(HfTokenizerBpe, MergesAsStringsOrPairs) {
  const std::vector<std::string> vocab{"a", "b", "c", "ab", "abc"};
  for (const Json& merges :
       {Json{"a b", "ab c"}, Json::array({Json::array({"a", "b"}), Json::array({"ab", "c"})})}) {
    const HfTokenizer tok = make(bpe(vocab, merges));
    EXPECT_EQ(tok.encode("abc"), (Ids{4}));
    EXPECT_EQ(tok.encode("abca"), (Ids{4, 0}));
    EXPECT_EQ(tok.vocab_size(), 5);
    EXPECT_EQ(tok.decode({4, 0}), "abc a");  // no decoder: tokens joined by spaces
  }
}

TEST(HfTokenizerBpe, LowestRankFirstThenLeftmost) {
  const HfTokenizer tok = make(bpe({"a", "b", "c", "ab", "bc"}, Json{"b c", "a b"}));
  EXPECT_EQ(tok.encode("abc"), (Ids{0, 4}));
  const HfTokenizer ties = make(bpe({"a", "aa"}, Json{"a a"}));
  EXPECT_EQ(ties.encode("aaa"), (Ids{1, 0}));
}

TEST(HfTokenizerBpe, IgnoreMerges) {
  Json j = bpe({"a", "b", "c", "ab", "abc"}, Json{"a b"});
  EXPECT_EQ(make(j).encode("abc"), (Ids{3, 2}));
  j["model"]["ignore_merges"] = true;
  EXPECT_EQ(make(j).encode("abc"), (Ids{4}));
  EXPECT_EQ(make(j).encode("abcabc"), (Ids{3, 2, 3, 2}));  // not itself a vocab entry
}

TEST(HfTokenizerBpe, UnknownTokenAndFuse) {
  Json j = bpe({"<unk>", "a"}, Json::array());
  EXPECT_EQ(make(j).encode("axya"), (Ids{1, 1}));  // no unk_token: unknown characters dropped
  j["model"]["unk_token"] = "<unk>";
  EXPECT_EQ(make(j).encode("axya"), (Ids{1, 0, 0, 1}));
  EXPECT_EQ(make(j).unk_id(), 0);
  EXPECT_EQ(make(j).piece_to_id("zzz"), 0);
  j["model"]["fuse_unk"] = true;
  EXPECT_EQ(make(j).encode("axya"), (Ids{1, 0, 1}));
}

// SentencePiece-style BPE as TinyLlama and Mistral ship it.
TEST(HfTokenizerBpe, ByteFallbackSentencePieceStyle) {
  const std::string meta = "\xE2\x96\x81";
  Json j = bpe({"<unk>", "<s>", "</s>", "<0x0A>", "<0xC3>", "<0xA9>", meta, "H", "i", meta + "H",
                meta + "Hi"},
               Json{meta + " H", meta + "H i"});
  j["model"]["unk_token"] = "<unk>";
  j["model"]["byte_fallback"] = true;
  j["model"]["fuse_unk"] = true;
  j["normalizer"] = Json::parse(R"({"type":"Sequence","normalizers":[
      {"type":"Prepend","prepend":"▁"},{"type":"Replace","pattern":{"String":" "},"content":"▁"}]})");
  j["decoder"] = Json::parse(R"({"type":"Sequence","decoders":[
      {"type":"Replace","pattern":{"String":"▁"},"content":" "},{"type":"ByteFallback"},
      {"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]})");
  j["added_tokens"] = Json{added(0, "<unk>"), added(1, "<s>"), added(2, "</s>")};
  j["post_processor"] = Json::parse(R"({"type":"TemplateProcessing",
      "single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],
      "pair":[], "special_tokens":{"<s>":{"id":"<s>","ids":[1],"tokens":["<s>"]}}})");
  const HfTokenizer tok = make(j);
  EXPECT_EQ(tok.encode("Hi \xC3\xA9\n"), (Ids{10, 6, 4, 5, 3}));
  EXPECT_EQ(tok.encode("Hi\xE2\x82\xAC"), (Ids{10, 0}));  // no byte tokens for the euro sign
  EXPECT_EQ(tok.decode({1, 10, 6, 4, 5, 3}), "Hi \xC3\xA9\n");
  EXPECT_EQ(tok.bos_id(), 1);
  EXPECT_TRUE(tok.adds_bos_by_default());
  EXPECT_EQ(tok.encode("Hi", true), (Ids{1, 10}));
  // The normalizer sees each stretch between added tokens: Prepend applies after "<s>" too.
  EXPECT_EQ(tok.encode("<s>Hi"), (Ids{1, 10}));
}

TEST(HfTokenizerAddedTokens, LeftmostLongestAndSpecialSkip) {
  Json j = ascii();
  j["added_tokens"] = Json{added(100, "<a>"), added(101, "<ab>"), added(102, "hi", false)};
  const HfTokenizer tok = make(j);
  Ids want = chars("x");
  want.push_back(100);
  for (int id : chars("y")) want.push_back(id);
  want.push_back(101);
  want.push_back(102);
  EXPECT_EQ(tok.encode("x<a>y<ab>hi"), want);
  EXPECT_EQ(tok.vocab_size(), 103);
  EXPECT_TRUE(tok.is_special(100));
  EXPECT_FALSE(tok.is_special(102));
  EXPECT_EQ(tok.decode({100, 102}), "hi");
  EXPECT_EQ(tok.decode({100, 102}, false), "<a> hi");
  EXPECT_EQ(tok.piece_to_id("<ab>"), 101);
  EXPECT_EQ(tok.id_to_piece(101), "<ab>");
}

TEST(HfTokenizerAddedTokens, SingleWordLstripRstrip) {
  Json j = ascii();
  Json word = added(100, "ab");
  word["single_word"] = true;
  Json left = added(101, "<l>");
  left["lstrip"] = true;
  Json right = added(102, "<r>");
  right["rstrip"] = true;
  j["added_tokens"] = Json{word, left, right};
  const HfTokenizer tok = make(j);
  Ids want{100};
  for (int id : chars(" c")) want.push_back(id);
  EXPECT_EQ(tok.encode("ab c"), want);
  EXPECT_EQ(tok.encode("abc"), chars("abc"));
  EXPECT_EQ(tok.encode("xab"), chars("xab"));
  want = chars("x");
  want.push_back(101);
  EXPECT_EQ(tok.encode("x  <l>"), want);
  want = {102};
  for (int id : chars("y")) want.push_back(id);
  EXPECT_EQ(tok.encode("<r> \t y"), want);
}

TEST(HfTokenizerAddedTokens, NormalizedOnesMatchTheNormalizedText) {
  Json j = ascii();
  j["normalizer"] = {{"type", "Lowercase"}};
  Json lower = added(100, "HI", false);
  lower["normalized"] = true;  // matched as "hi" in lowercased text
  j["added_tokens"] = Json{lower, added(101, "<X>")};
  const HfTokenizer tok = make(j);
  Ids want{100};
  for (int id : chars(" x")) want.push_back(id);
  EXPECT_EQ(tok.encode("Hi X"), want);
  EXPECT_EQ(tok.encode("<X>"), (Ids{101}));  // raw match before lowercasing
  EXPECT_EQ(tok.encode("<x>"), chars("<x>"));
}

TEST(HfTokenizerWordPiece, BertTokenizerJson) {
  const Json j = Json::parse(R"({
    "added_tokens":[
      {"id":0,"content":"[PAD]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
      {"id":1,"content":"[UNK]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
      {"id":2,"content":"[CLS]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
      {"id":3,"content":"[SEP]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}],
    "normalizer":{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,
                  "strip_accents":null,"lowercase":true},
    "pre_tokenizer":{"type":"BertPreTokenizer"},
    "post_processor":{"type":"TemplateProcessing",
      "single":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},
                {"SpecialToken":{"id":"[SEP]","type_id":0}}],
      "special_tokens":{"[CLS]":{"id":"[CLS]","ids":[2],"tokens":["[CLS]"]},
                        "[SEP]":{"id":"[SEP]","ids":[3],"tokens":["[SEP]"]}}},
    "decoder":{"type":"WordPiece","prefix":"##","cleanup":true},
    "model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##",
             "max_input_chars_per_word":100,
             "vocab":{"[PAD]":0,"[UNK]":1,"[CLS]":2,"[SEP]":3,"hello":4,"world":5,"##s":6,",":7,"!":8,"cafe":9}}})");
  const HfTokenizer tok = make(j);
  EXPECT_EQ(tok.encode("Hello, WORLDS! Caf\xC3\xA9 xyz"), (Ids{4, 7, 5, 6, 8, 9, 1}));
  EXPECT_EQ(tok.encode("[CLS] hello", false), (Ids{2, 4}));
  EXPECT_EQ(tok.bos_id(), 2);
  EXPECT_EQ(tok.eos_id(), 3);
  EXPECT_EQ(tok.unk_id(), 1);
  EXPECT_EQ(tok.encode("hello", true, true), (Ids{2, 4, 3}));
  EXPECT_EQ(tok.decode({2, 4, 7, 5, 6, 8, 3}), "hello, worlds!");
}

// A scratch folder removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() /
           ("pplug_hf_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  void write(const std::string& name, const std::string& text) const {
    pplug::detail::write_file_atomic((path / name).string(), text);
  }
};

Json with_specials() {
  Json j = ascii();
  j["added_tokens"] = Json{added(100, "<s>"), added(101, "</s>"), added(102, "<pad>")};
  return j;
}

TEST(HfTokenizerSpecialIds, FromTokenizerConfig) {
  TempDir dir;
  dir.write("tokenizer.json", with_specials().dump());
  dir.write("tokenizer_config.json",
            R"({"bos_token":"<s>","eos_token":{"content":"</s>","lstrip":false},"pad_token":null,
                "add_bos_token":true})");
  const HfTokenizer tok = HfTokenizer::load(dir.path.string());
  EXPECT_EQ(tok.bos_id(), 100);
  EXPECT_EQ(tok.eos_id(), 101);
  EXPECT_EQ(tok.pad_id(), -1);
  EXPECT_TRUE(tok.adds_bos_by_default());
  EXPECT_EQ(tok.encode("a", true, true), (Ids{100, 65, 101}));
  EXPECT_EQ(tok.path(), (dir.path / "tokenizer.json").string());
}

TEST(HfTokenizerSpecialIds, FromConfigAndGenerationConfig) {
  TempDir dir;
  dir.write("tokenizer.json", with_specials().dump());
  dir.write("config.json", R"({"bos_token_id":100,"eos_token_id":[101,102]})");
  dir.write("generation_config.json", R"({"pad_token_id":102})");
  const HfTokenizer tok = HfTokenizer::load((dir.path / "tokenizer.json").string());
  EXPECT_EQ(tok.bos_id(), 100);
  EXPECT_EQ(tok.eos_id(), 101);
  EXPECT_EQ(tok.pad_id(), 102);
  EXPECT_FALSE(tok.adds_bos_by_default());
}

TEST(HfTokenizerSpecialIds, BadConfigNamesFileFieldValue) {
  TempDir dir;
  dir.write("tokenizer.json", with_specials().dump());
  dir.write("tokenizer_config.json", R"({"bos_token":"<nope>"})");
  try {
    HfTokenizer::load(dir.path.string());
    ADD_FAILURE() << "no error";
  } catch (const pplug::FormatError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("tokenizer_config.json"), std::string::npos) << what;
    EXPECT_NE(what.find("bos_token"), std::string::npos) << what;
    EXPECT_NE(what.find("<nope>"), std::string::npos) << what;
  }
}

// The load error names the file, the JSON path and the value.
void expect_load_error(const std::string& text, const std::vector<std::string>& parts) {
  try {
    HfTokenizer::from_json(text, "tiny.json");
    ADD_FAILURE() << "no error for " << text.substr(0, 200);
  } catch (const pplug::FormatError& e) {
    for (const std::string& part : parts) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
          << "'" << part << "' not in: " << e.what();
    }
  }
}

TEST(HfTokenizerLoadErrors, NameFileFieldAndValue) {
  expect_load_error("{\"model\": {", {"tiny.json", "not valid JSON"});
  expect_load_error("[1, 2]", {"tiny.json", "top level", "expected an object"});
  expect_load_error("{}", {"tiny.json", "model"});
  expect_load_error(bpe({"a", "b", "ab"}, Json{"a b", "a c"}).dump(),
                    {"tiny.json", "model.merges[1]", "\"c\"", "not in model.vocab"});
  expect_load_error(bpe({"a", "b"}, Json{"a b"}).dump(),
                    {"tiny.json", "model.merges[0]", "\"ab\"", "not in model.vocab"});
  expect_load_error(bpe({"a", "b", "ab"}, Json{"a b c"}).dump(),
                    {"tiny.json", "model.merges[0]", "a b c"});
  expect_load_error(bpe({"a", "b", "ab"}, Json{Json{"a"}}).dump(),
                    {"tiny.json", "model.merges[0]", "array of 1"});
  Json j = bpe({"a"}, Json::array());
  j["model"]["type"] = "Unigram";
  expect_load_error(j.dump(), {"tiny.json", "model.type", "\"Unigram\""});
  j = bpe({"a"}, Json::array());
  j["normalizer"] = {{"type", "Precompiled"}};
  expect_load_error(j.dump(), {"tiny.json", "normalizer.type", "\"Precompiled\""});
  j = bpe({"a"}, Json::array());
  j["pre_tokenizer"] = {{"type", "Frobnicate"}};
  expect_load_error(j.dump(), {"tiny.json", "pre_tokenizer.type", "\"Frobnicate\""});
  j = bpe({"a"}, Json::array());
  j["decoder"] = {{"type", "Frobnicate"}};
  expect_load_error(j.dump(), {"tiny.json", "decoder.type", "\"Frobnicate\""});
  j = bpe({"a", "b"}, Json::array());
  j["model"]["vocab"]["b"] = 0;
  expect_load_error(j.dump(), {"tiny.json", "model.vocab[\"b\"]", "duplicate id 0", "\"a\""});
  j = bpe({"a"}, Json::array());
  j["model"]["vocab"]["b"] = -3;
  expect_load_error(j.dump(), {"tiny.json", "model.vocab[\"b\"]", "-3"});
  j = bpe({"a"}, Json::array());
  j["model"]["vocab"]["b"] = "one";
  expect_load_error(j.dump(), {"tiny.json", "model.vocab[\"b\"]", "\"one\""});
  j = bpe({"a"}, Json::array());
  j["added_tokens"] = Json{added(5, "<x>"), added(5, "<y>")};
  expect_load_error(j.dump(), {"tiny.json", "added_tokens[1].id", "duplicate id 5", "<x>"});
  j = bpe({"a"}, Json::array());
  j["added_tokens"] = Json{added(0, "<x>")};
  expect_load_error(j.dump(), {"tiny.json", "added_tokens[0].id", "duplicate id 0", "\"a\""});
  j = bpe({"a"}, Json::array());
  j["model"]["vocab"]["b"] = 10000000;
  expect_load_error(j.dump(), {"tiny.json", "too sparse", "10000000"});
  j = bpe({"a"}, Json::array());
  j["model"]["unk_token"] = "<unk>";
  expect_load_error(j.dump(), {"tiny.json", "model.unk_token", "<unk>"});
  j = bpe({"a"}, Json::array());
  j["model"]["type"] = "WordPiece";
  j["model"]["continuing_subword_prefix"] = "@@";
  expect_load_error(j.dump(), {"tiny.json", "model.continuing_subword_prefix", "\"@@\""});
}

TEST(HfTokenizerLoadErrors, HostileNestingAndFiles) {
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += R"({"type":"Sequence","normalizers":[)";
  deep += R"({"type":"NFC"})";
  for (int i = 0; i < 100000; ++i) deep += "]}";
  std::string text = bpe({"a"}, Json::array()).dump();
  const std::string marker = "\"normalizer\":null";
  text.replace(text.find(marker), marker.size(), "\"normalizer\":" + deep);
  expect_load_error(text, {"tiny.json", "normalizer", "nested too deeply"});
  EXPECT_THROW(HfTokenizer::load("/nonexistent/tokenizer.json"), pplug::FormatError);
  // Truncated files fail cleanly at every length.
  const std::string full = bpe({"a", "b", "ab"}, Json{"a b"}).dump();
  for (std::size_t n = 0; n < full.size(); ++n) {
    EXPECT_THROW(HfTokenizer::from_json(full.substr(0, n)), pplug::FormatError) << n;
  }
}

}  // namespace
