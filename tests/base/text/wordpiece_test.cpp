// WordPiece tokenizer tests. Expected ids come from the bert-base-uncased vocab.txt (id = 0-based
// line index), e.g. line 7593 "hello" -> 7592, line 2089 "world" -> 2088, line 1000 "!" -> 999.
#include "pplug/wordpiece.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "pplug/error.h"
#include "text/unicode_props.h"
#include "text/utf8.h"

namespace {

namespace fs = std::filesystem;
using Ids = std::vector<int>;

const std::string kVocab = PPLUG_SHARED_MODELS "/bert-base-uncased-vocab/vocab.txt";

class BertVocabTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (fs::exists(kVocab)) tokenizer_ = new pplug::WordPieceTokenizer(kVocab);
  }
  static void TearDownTestSuite() {
    delete tokenizer_;
    tokenizer_ = nullptr;
  }
  void SetUp() override {
    if (tokenizer_ == nullptr) GTEST_SKIP() << "missing " << kVocab;
  }
  static Ids encode(const std::string& text) { return tokenizer_->encode(text); }
  static pplug::WordPieceTokenizer* tokenizer_;
};
pplug::WordPieceTokenizer* BertVocabTest::tokenizer_ = nullptr;

// A scratch folder removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    path_ =
        fs::temp_directory_path() /
        ("pplug_wordpiece_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string write(const std::string& name, const std::string& contents) const {
    const fs::path file = path_ / name;
    std::ofstream(file, std::ios::binary) << contents;
    return file.string();
  }

 private:
  fs::path path_;
};

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// The message of the FormatError thrown by loading `path`, or "" when none is thrown.
std::string load_error(const std::string& path) {
  try {
    pplug::WordPieceTokenizer tokenizer(path);
  } catch (const pplug::FormatError& e) {
    return e.what();
  }
  return "";
}

TEST_F(BertVocabTest, SpecialIdsAndVocabulary) {
  EXPECT_EQ(tokenizer_->vocab_size(), 30522);
  EXPECT_EQ(tokenizer_->pad_id(), 0);
  EXPECT_EQ(tokenizer_->unk_id(), 100);
  EXPECT_EQ(tokenizer_->cls_id(), 101);
  EXPECT_EQ(tokenizer_->sep_id(), 102);
  EXPECT_EQ(tokenizer_->mask_id(), 103);
  EXPECT_EQ(tokenizer_->id_to_token(7592), "hello");
  EXPECT_EQ(tokenizer_->token_to_id("world"), 2088);
  EXPECT_EQ(tokenizer_->token_to_id("no-such-token"), 100);
  EXPECT_THROW(tokenizer_->id_to_token(30522), pplug::InvalidArgument);
  EXPECT_THROW(tokenizer_->id_to_token(-1), pplug::InvalidArgument);
}

TEST_F(BertVocabTest, ReadmeExamples) {
  EXPECT_EQ(encode("Hello world"), (Ids{7592, 2088}));
  EXPECT_EQ(encode("Hello, world!"), (Ids{7592, 1010, 2088, 999}));
}

TEST_F(BertVocabTest, EmptyAndWhitespaceOnly) {
  EXPECT_TRUE(encode("").empty());
  EXPECT_TRUE(encode(" \t\r\n ").empty());
  EXPECT_TRUE(encode("\xE3\x80\x80\xC2\xA0").empty());  // U+3000, U+00A0 (Zs)
}

TEST_F(BertVocabTest, WhitespaceKinds) {
  EXPECT_EQ(encode("hello\tworld\nfoo\r\nbar"), (Ids{7592, 2088, 29379, 3347}));
  // No-break space and ideographic space separate words; so does U+2028 (Python's split).
  EXPECT_EQ(encode("hello\xC2\xA0world\xE3\x80\x80"
                   "again"),
            (Ids{7592, 2088, 2153}));
  EXPECT_EQ(encode("one\xE2\x80\xA8two"), (Ids{2028, 2048}));
}

TEST_F(BertVocabTest, LowercasesAndStripsAccents) {
  EXPECT_EQ(encode("H\xC3\xA9llo"), (Ids{7592}));   // "Héllo", precomposed é
  EXPECT_EQ(encode("He\xCC\x81llo"), (Ids{7592}));  // e + U+0301 combining acute
  // "Ça va? Éléphant naïve café"
  EXPECT_EQ(encode("\xC3\x87"
                   "a va? \xC3\x89l\xC3\xA9phant na\xC3\xAFve caf\xC3\xA9"),
            (Ids{6187, 12436, 1029, 10777, 15743, 7668}));
  // "ÅNGSTRÖM" -> ang ##strom; "İstanbul" (U+0130 lowers to i + U+0307) -> istanbul.
  EXPECT_EQ(encode("\xC3\x85NGSTR\xC3\x96M"), (Ids{17076, 15687}));
  EXPECT_EQ(encode("\xC4\xB0stanbul"), (Ids{9960}));
  // Greek: "ΟΔΟΣ" -> ο ##δ ##ο ##σ (no final-sigma rule: HF lowercases one character at a time).
  EXPECT_EQ(encode("\xCE\x9F\xCE\x94\xCE\x9F\xCE\xA3"), (Ids{1169, 29722, 29730, 29733}));
}

TEST_F(BertVocabTest, WordPieceContinuations) {
  EXPECT_EQ(encode("unaffable"), (Ids{14477, 20961, 3468}));       // una ##ffa ##ble
  EXPECT_EQ(encode("embeddings"), (Ids{7861, 8270, 4667, 2015}));  // em ##bed ##ding ##s
  EXPECT_EQ(encode("ma\xC3\xB1"
                   "ana"),
            (Ids{24951, 2532}));  // "mañana" -> mana ##na
}

TEST_F(BertVocabTest, UncoverableWordIsOneUnk) {
  // U+2603 (snowman) is a symbol, not punctuation: it stays inside the word and nothing in the
  // vocabulary covers it, so the whole word, not just the snowman, becomes [UNK].
  EXPECT_EQ(encode("hello\xE2\x98\x83world"), (Ids{100}));
  EXPECT_EQ(encode("hi hello\xE2\x98\x83world hi"), (Ids{7632, 100, 7632}));
}

TEST_F(BertVocabTest, LongWords) {
  // 100 code points still go through WordPiece: aba, 48 x ##ba, ##b.
  Ids expected{19557};
  expected.insert(expected.end(), 48, 3676);
  expected.push_back(2497);
  EXPECT_EQ(encode(repeat("ab", 50)), expected);
  EXPECT_EQ(encode(repeat("ab", 50) + "a"), (Ids{100}));
  // The limit counts code points after normalisation: 101 x "é" is 202 bytes and becomes [UNK].
  EXPECT_EQ(encode(repeat("\xC3\xA9", 101)), (Ids{100}));
  EXPECT_EQ(encode("ok " + repeat("x", 101) + " ok"), (Ids{7929, 100, 7929}));
}

TEST_F(BertVocabTest, CjkCharactersAreSingleTokens) {
  EXPECT_EQ(encode("\xE4\xB8\xAD\xE6\x96\x87"), (Ids{1746, 1861}));  // 中文
  EXPECT_EQ(encode("ab\xE4\xB8\xAD"
                   "cd"),
            (Ids{11113, 1746, 3729}));  // ab 中 cd
  // 他说中文很好: only 中 and 文 are in this vocabulary; each other ideograph is its own [UNK].
  EXPECT_EQ(encode("\xE4\xBB\x96\xE8\xAF\xB4\xE4\xB8\xAD\xE6\x96\x87\xE5\xBE\x88\xE5\xA5\xBD"),
            (Ids{100, 100, 1746, 1861, 100, 100}));
}

TEST_F(BertVocabTest, HangulDecomposesToJamo) {
  // 한국어 -> ᄒ ##ᅡ ##ᆫ ##ᄀ ##ᅮ ##ᆨ ##ᄋ ##ᅥ (NFD of the syllables).
  EXPECT_EQ(encode("\xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4"),
            (Ids{1469, 30006, 30021, 29991, 30014, 30020, 29999, 30008}));
}

TEST_F(BertVocabTest, ControlCharactersAreDropped) {
  // NUL, BEL and U+FFFD vanish without splitting the word: "abc" ##d.
  const char with_nul[] =
      "a\0b\x07"
      "c\xEF\xBF\xBD"
      "d";
  EXPECT_EQ(encode(std::string(with_nul, sizeof(with_nul) - 1)), (Ids{5925, 2094}));
  EXPECT_EQ(encode("hel\xE2\x80\x8Blo"), (Ids{7592}));  // U+200B zero-width space (Cf)
  EXPECT_EQ(encode("hel\xFFlo"), (Ids{7592}));          // an invalid UTF-8 byte
}

TEST_F(BertVocabTest, PunctuationIsSplit) {
  // “quoted” — dash…
  EXPECT_EQ(encode("\xE2\x80\x9Cquoted\xE2\x80\x9D \xE2\x80\x94 dash\xE2\x80\xA6"),
            (Ids{1523, 9339, 1524, 1517, 11454, 1529}));
  EXPECT_EQ(encode("I\xE2\x80\x99m"), (Ids{1045, 1521, 1049}));  // I’m
  // ASCII symbols count as punctuation too: $ 5 + 3 = 8.
  EXPECT_EQ(encode("$5+3=8"), (Ids{1002, 1019, 1009, 1017, 1027, 1022}));
  // ¡Hola! ¿Cómo estás?
  EXPECT_EQ(encode("\xC2\xA1Hola! \xC2\xBF"
                   "C\xC3\xB3mo est\xC3\xA1s?"),
            (Ids{1067, 7570, 2721, 999, 1094, 18609, 9765, 3022, 1029}));
}

TEST_F(BertVocabTest, LiteralSpecialTokens) {
  EXPECT_EQ(encode("[CLS] hi [SEP]"), (Ids{101, 7632, 102}));
  EXPECT_EQ(encode("x[MASK]y"), (Ids{1060, 103, 1061}));
  EXPECT_EQ(encode("[cls]"), (Ids{1031, 18856, 2015, 1033}));  // case-sensitive: [ cl ##s ]
}

TEST_F(BertVocabTest, EncodeForModel) {
  EXPECT_EQ(tokenizer_->encode_for_model("Hello, world!", 512),
            (Ids{101, 7592, 1010, 2088, 999, 102}));
  EXPECT_EQ(tokenizer_->encode_for_model("Hello, world!", 4), (Ids{101, 7592, 1010, 102}));
  EXPECT_EQ(tokenizer_->encode_for_model("", 8), (Ids{101, 102}));
  EXPECT_EQ(tokenizer_->encode_for_model("Hello", 2), (Ids{101, 102}));
  EXPECT_THROW(tokenizer_->encode_for_model("Hello", 1), pplug::InvalidArgument);
}

TEST(WordPieceVocab, CasedModeKeepsCaseAndAccents) {
  TempDir dir;
  const std::string path =
      dir.write("vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\nHello\nhello\n##!\ncaf\xC3\xA9\n,\n");
  pplug::WordPieceTokenizer cased(path, /*lowercase=*/false);
  EXPECT_EQ(cased.encode("Hello hello, caf\xC3\xA9 cafe"), (Ids{4, 5, 8, 7, 1}));
  EXPECT_EQ(cased.mask_id(), -1);
  pplug::WordPieceTokenizer uncased(path);
  EXPECT_EQ(uncased.encode("Hello caf\xC3\xA9"), (Ids{5, 1}));
}

TEST(WordPieceVocab, CrlfLineEndingsAreAccepted) {
  TempDir dir;
  pplug::WordPieceTokenizer tokenizer(
      dir.write("vocab.txt", "[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\nab\r\n"));
  EXPECT_EQ(tokenizer.encode("ab"), (Ids{4}));
  EXPECT_EQ(tokenizer.vocab_size(), 5);
}

TEST(WordPieceVocab, BadFilesAreFormatErrors) {
  TempDir dir;
  const std::string missing = dir.write("placeholder", "") + ".absent";
  EXPECT_NE(load_error(missing).find(missing), std::string::npos);

  const std::string empty = dir.write("empty.txt", "");
  EXPECT_NE(load_error(empty).find(empty), std::string::npos);

  const std::string duplicate = dir.write("dup.txt", "[PAD]\n[UNK]\nab\n[CLS]\nab\n[SEP]\n");
  const std::string dup_error = load_error(duplicate);
  EXPECT_NE(dup_error.find(duplicate + ":5:"), std::string::npos) << dup_error;
  EXPECT_NE(dup_error.find("line 3"), std::string::npos) << dup_error;

  const std::string blank = dir.write("blank.txt", "[PAD]\n[UNK]\n\n[CLS]\n[SEP]\n");
  EXPECT_NE(load_error(blank).find(blank + ":3:"), std::string::npos) << load_error(blank);

  const std::string no_unk = dir.write("no_unk.txt", "[PAD]\n[CLS]\n[SEP]\nab\n");
  EXPECT_NE(load_error(no_unk).find("[UNK]"), std::string::npos) << load_error(no_unk);
  const std::string no_sep = dir.write("no_sep.txt", "[PAD]\n[CLS]\n[UNK]\n");
  EXPECT_NE(load_error(no_sep).find("[SEP]"), std::string::npos) << load_error(no_sep);

  const std::string bad_utf8 = dir.write("bad.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\na\xFF\n");
  EXPECT_NE(load_error(bad_utf8).find(bad_utf8 + ":5:"), std::string::npos);
}

TEST(Utf8, DecodesAndReplacesInvalidSequences) {
  using pplug::detail::decode_utf8;
  using pplug::detail::encode_utf8;
  EXPECT_EQ(decode_utf8("a\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80"),
            (std::u32string{U'a', 0xE9, 0x4E2D, 0x1F600}));
  // Truncated, overlong, surrogate and stray continuation bytes each become one U+FFFD.
  EXPECT_EQ(decode_utf8("\xE4\xB8"
                        "a"),
            (std::u32string{0xFFFD, U'a'}));
  EXPECT_EQ(decode_utf8("\xC0\xAF"), (std::u32string{0xFFFD, 0xFFFD}));
  EXPECT_EQ(decode_utf8("\xED\xA0\x80"), (std::u32string{0xFFFD, 0xFFFD, 0xFFFD}));
  EXPECT_EQ(decode_utf8("\x80"), (std::u32string{0xFFFD}));
  EXPECT_EQ(encode_utf8(U"a\u00E9\u4E2D\U0001F600"), "a\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80");
  EXPECT_TRUE(pplug::detail::is_valid_utf8("\xEF\xBF\xBD ok"));
  EXPECT_FALSE(pplug::detail::is_valid_utf8("ok \xF5\x80\x80\x80"));
}

TEST(UnicodeProps, Classes) {
  namespace u = pplug::detail::unicode;
  EXPECT_TRUE(u::is_bert_punctuation(U'$'));
  EXPECT_TRUE(u::is_bert_punctuation(U'`'));
  EXPECT_TRUE(u::is_bert_punctuation(0x00BF));   // ¿ (Po)
  EXPECT_TRUE(u::is_bert_punctuation(0x3002));   // 。 (Po)
  EXPECT_FALSE(u::is_bert_punctuation(0x00A9));  // © (So)
  EXPECT_TRUE(u::is_nonspacing_mark(0x0301));
  EXPECT_FALSE(u::is_nonspacing_mark(U'e'));
  EXPECT_TRUE(u::is_bert_control(0x0007));
  EXPECT_TRUE(u::is_bert_control(0x200B));
  EXPECT_FALSE(u::is_bert_control(U'\n'));
  EXPECT_TRUE(u::is_bert_whitespace(U'\n'));
  EXPECT_TRUE(u::is_bert_whitespace(0x2009));
  EXPECT_TRUE(u::is_cjk_ideograph(0x4E2D));
  EXPECT_FALSE(u::is_cjk_ideograph(0x3042));  // あ (Hiragana is not "CJK" here)
  std::u32string out;
  u::append_lowercase(0x0130, out);        // İ -> i + U+0307
  u::append_lowercase(0x0410, out);        // А -> а
  u::append_lowercase(0x1E9E, out);        // ẞ -> ß
  u::append_accent_stripped(0x1EA0, out);  // Ạ -> A
  u::append_accent_stripped(0x0301, out);  // a lone combining mark vanishes
  u::append_accent_stripped(0xF900, out);  // compatibility ideograph -> U+8C48
  EXPECT_EQ(out, (std::u32string{U'i', 0x0307, 0x0430, 0x00DF, U'A', 0x8C48}));
}

}  // namespace
