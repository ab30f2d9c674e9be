// Normalizers, pre-tokenizers and decoders of tokenizer.json, each built from a hand-made JSON
// value, with the results Hugging Face tokenizers gives for them.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pplug/error.h"
#include "tokenizer/hf/decoder.h"
#include "tokenizer/hf/normalizer.h"
#include "tokenizer/hf/pre_tokenizer.h"

namespace {

using pplug::hf::Json;
using pplug::hf::JsonAt;
using Strings = std::vector<std::string>;

const std::string kFile = "tiny.json";
const std::string kMeta = "\xE2\x96\x81";  // U+2581

std::string normalize(const std::string& json, std::string text) {
  const Json j = Json::parse(json);
  auto normalizer = pplug::hf::parse_normalizer(JsonAt{j, kFile, "normalizer"});
  normalizer->normalize(text);
  return text;
}

Strings pre_tokenize(const std::string& json, const std::string& text, bool at_start = true) {
  const Json j = Json::parse(json);
  auto pre = pplug::hf::parse_pre_tokenizer(JsonAt{j, kFile, "pre_tokenizer"});
  std::vector<pplug::hf::Piece> pieces{{text, at_start}};
  pre->pre_tokenize(pieces);
  Strings out;
  for (const auto& p : pieces) out.push_back(p.text);
  return out;
}

Strings decode(const std::string& json, Strings tokens) {
  const Json j = Json::parse(json);
  auto decoder = pplug::hf::parse_decoder(JsonAt{j, kFile, "decoder"});
  decoder->decode_chain(tokens);
  return tokens;
}

std::string split_json(const std::string& pattern, const std::string& behavior,
                       bool invert = false) {
  Json j = {{"type", "Split"}, {"behavior", behavior}, {"invert", invert}};
  j["pattern"] = Json::parse(pattern);
  return j.dump();
}

TEST(HfTokenizerNormalizers, UnicodeForms) {
  EXPECT_EQ(normalize(R"({"type":"NFC"})", "cafe\xCC\x81"), "caf\xC3\xA9");
  EXPECT_EQ(normalize(R"({"type":"NFD"})", "caf\xC3\xA9"), "cafe\xCC\x81");
  EXPECT_EQ(normalize(R"({"type":"NFKC"})",
                      "\xEF\xAC\x81"
                      "x\xE2\x91\xA0"),
            "fix1");  // ﬁ ①
  EXPECT_EQ(normalize(R"({"type":"NFKD"})", "\xC3\xA9"), "e\xCC\x81");
}

TEST(HfTokenizerNormalizers, LowercasePrependReplaceStripSequence) {
  EXPECT_EQ(normalize(R"({"type":"Lowercase"})", "HeLLo \xC3\x89T\xC3\x89"),
            "hello \xC3\xA9t\xC3\xA9");
  // Per character, full mapping: U+0130 becomes "i" + U+0307; a final sigma stays σ.
  EXPECT_EQ(normalize(R"({"type":"Lowercase"})", "\xC4\xB0"), "i\xCC\x87");
  EXPECT_EQ(normalize(R"({"type":"Lowercase"})", "\xCE\x9F\xCE\xA3"), "\xCE\xBF\xCF\x83");
  EXPECT_EQ(normalize(R"({"type":"Prepend","prepend":"▁"})", "hi"), kMeta + "hi");
  EXPECT_EQ(normalize(R"({"type":"Prepend","prepend":"▁"})", ""), "");
  EXPECT_EQ(normalize(R"({"type":"Replace","pattern":{"String":" "},"content":"▁"})", "a b  c"),
            "a" + kMeta + "b" + kMeta + kMeta + "c");
  EXPECT_EQ(normalize(R"({"type":"Replace","pattern":{"Regex":"\\s+"},"content":"_"})", "a \t b"),
            "a_b");
  EXPECT_EQ(normalize(R"({"type":"Strip","strip_left":true,"strip_right":false})", "  a  "), "a  ");
  EXPECT_EQ(normalize(R"({"type":"Strip","strip_left":true,"strip_right":true})",
                      "\xE3\x80\x80"
                      "a "),
            "a");
  EXPECT_EQ(normalize(R"({"type":"Sequence","normalizers":[
                        {"type":"Prepend","prepend":"▁"},
                        {"type":"Replace","pattern":{"String":" "},"content":"▁"}]})",
                      "Hey you"),
            kMeta + "Hey" + kMeta + "you");
  EXPECT_EQ(
      normalize(R"({"type":"BertNormalizer","lowercase":true})", "H\xC3\xA9llo\t\x01\xE4\xB8\xAD"),
      "hello  \xE4\xB8\xAD ");
}

TEST(HfTokenizerPreTokenizers, SplitBehaviors) {
  const std::string dash = R"({"String":"-"})";
  const std::string text = "a-b--c";
  EXPECT_EQ(pre_tokenize(split_json(dash, "Removed"), text), (Strings{"a", "b", "c"}));
  EXPECT_EQ(pre_tokenize(split_json(dash, "Isolated"), text),
            (Strings{"a", "-", "b", "-", "-", "c"}));
  EXPECT_EQ(pre_tokenize(split_json(dash, "MergedWithPrevious"), text),
            (Strings{"a-", "b-", "-", "c"}));
  EXPECT_EQ(pre_tokenize(split_json(dash, "MergedWithNext"), text),
            (Strings{"a", "-b", "-", "-c"}));
  EXPECT_EQ(pre_tokenize(split_json(dash, "Contiguous"), text),
            (Strings{"a", "-", "b", "--", "c"}));
  const std::string letters = R"({"Regex":"\\p{L}+"})";
  EXPECT_EQ(pre_tokenize(split_json(letters, "Removed"), "ab, \xC3\xA9t\xC3\xA9"), (Strings{", "}));
  EXPECT_EQ(pre_tokenize(split_json(letters, "Removed", true), "ab, \xC3\xA9t\xC3\xA9"),
            (Strings{"ab", "\xC3\xA9t\xC3\xA9"}));
  // Oniguruma's scoped case-insensitivity.
  EXPECT_EQ(pre_tokenize(split_json(R"j({"Regex":"(?i:'s|'t)"})j", "Isolated"), "IT'S it's"),
            (Strings{"IT", "'S", " it", "'s"}));
}

TEST(HfTokenizerPreTokenizers, ByteLevel) {
  const std::string with_prefix =
      R"({"type":"ByteLevel","add_prefix_space":true,"use_regex":true})";
  EXPECT_EQ(pre_tokenize(with_prefix, "Hello world"), (Strings{"\xC4\xA0Hello", "\xC4\xA0world"}));
  const std::string plain = R"({"type":"ByteLevel","add_prefix_space":false,"use_regex":true})";
  EXPECT_EQ(pre_tokenize(plain, "Hello  world's 42"),
            (Strings{"Hello", "\xC4\xA0", "\xC4\xA0world", "'s",
                     "\xC4\xA0"
                     "42"}));
  const std::string bytes_only =
      R"({"type":"ByteLevel","add_prefix_space":false,"use_regex":false})";
  EXPECT_EQ(pre_tokenize(bytes_only, "\xC3\xA9 \n"), (Strings{"\xC3\x83\xC2\xA9\xC4\xA0\xC4\x8A"}));
}

TEST(HfTokenizerPreTokenizers, Metaspace) {
  const auto meta = [](const std::string& scheme, bool split) {
    return R"({"type":"Metaspace","replacement":"▁","prepend_scheme":")" + scheme +
           R"(","split":)" + (split ? "true" : "false") + "}";
  };
  EXPECT_EQ(pre_tokenize(meta("always", true), "Hey friend"),
            (Strings{kMeta + "Hey", kMeta + "friend"}));
  EXPECT_EQ(pre_tokenize(meta("always", false), "Hey friend"),
            (Strings{kMeta + "Hey" + kMeta + "friend"}));
  EXPECT_EQ(pre_tokenize(meta("never", true), "Hey friend"), (Strings{"Hey", kMeta + "friend"}));
  EXPECT_EQ(pre_tokenize(meta("first", true), "Hey", true), (Strings{kMeta + "Hey"}));
  EXPECT_EQ(pre_tokenize(meta("first", true), "Hey", false), (Strings{"Hey"}));
  EXPECT_EQ(pre_tokenize(meta("always", true), "Hey", false), (Strings{kMeta + "Hey"}));
  // The legacy add_prefix_space flag stands for always / never.
  EXPECT_EQ(
      pre_tokenize(R"({"type":"Metaspace","replacement":"▁","add_prefix_space":false})", "a b"),
      (Strings{"a", kMeta + "b"}));
}

TEST(HfTokenizerPreTokenizers, DigitsWhitespacePunctuationSequence) {
  EXPECT_EQ(pre_tokenize(R"({"type":"Digits","individual_digits":true})", "a123b"),
            (Strings{"a", "1", "2", "3", "b"}));
  EXPECT_EQ(pre_tokenize(R"({"type":"Digits","individual_digits":false})", "a123b\xD9\xA3"),
            (Strings{"a", "123", "b", "\xD9\xA3"}));
  EXPECT_EQ(pre_tokenize(R"({"type":"Whitespace"})", "Hey, friend!  ok?"),
            (Strings{"Hey", ",", "friend", "!", "ok", "?"}));
  EXPECT_EQ(pre_tokenize(R"({"type":"WhitespaceSplit"})", "Hey,  friend!\t"),
            (Strings{"Hey,", "friend!"}));
  EXPECT_EQ(pre_tokenize(R"({"type":"Punctuation"})", "a,b"), (Strings{"a", ",", "b"}));
  EXPECT_EQ(pre_tokenize(R"({"type":"BertPreTokenizer"})", "Hello, world!"),
            (Strings{"Hello", ",", "world", "!"}));
  EXPECT_EQ(pre_tokenize(R"({"type":"Sequence","pretokenizers":[
                           {"type":"WhitespaceSplit"},
                           {"type":"Digits","individual_digits":true}]})",
                         "ab12 c3"),
            (Strings{"ab", "1", "2", "c", "3"}));
}

TEST(HfTokenizerDecoders, EachType) {
  EXPECT_EQ(decode(R"({"type":"ByteLevel"})", {"\xC4\xA0hello", "\xC4\xA0w", "\xC3\x83\xC2\xA9"}),
            (Strings{" hello w\xC3\xA9"}));
  // A lone continuation byte becomes U+FFFD.
  EXPECT_EQ(decode(R"({"type":"ByteLevel"})", {"\xC2\xA9"}), (Strings{"\xEF\xBF\xBD"}));
  EXPECT_EQ(decode(R"({"type":"Metaspace","replacement":"▁","prepend_scheme":"always"})",
                   {kMeta + "Hey", kMeta + "friend"}),
            (Strings{"Hey", " friend"}));
  EXPECT_EQ(
      decode(R"({"type":"Metaspace","replacement":"▁","prepend_scheme":"never"})", {kMeta + "Hey"}),
      (Strings{" Hey"}));
  EXPECT_EQ(decode(R"({"type":"ByteFallback"})", {"<0xC3>", "<0xA9>", "a", "<0xC3>", "b"}),
            (Strings{"\xC3\xA9", "a", "\xEF\xBF\xBD", "b"}));
  EXPECT_EQ(decode(R"({"type":"Fuse"})", {"a", "b", "c"}), (Strings{"abc"}));
  EXPECT_EQ(decode(R"({"type":"Strip","content":" ","start":1,"stop":1})", {"  a  ", "b"}),
            (Strings{" a ", "b"}));
  EXPECT_EQ(
      decode(R"({"type":"Replace","pattern":{"String":"▁"},"content":" "})", {kMeta + "a" + kMeta}),
      (Strings{" a "}));
  EXPECT_EQ(decode(R"({"type":"WordPiece","prefix":"##","cleanup":true})",
                   {"hello", "##s", ",", "world", "!"}),
            (Strings{"hello", "s", ",", " world", "!"}));
  // SentencePiece-style BPE (TinyLlama, Mistral).
  EXPECT_EQ(decode(R"({"type":"Sequence","decoders":[
                       {"type":"Replace","pattern":{"String":"▁"},"content":" "},
                       {"type":"ByteFallback"},{"type":"Fuse"},
                       {"type":"Strip","content":" ","start":1,"stop":0}]})",
                   {kMeta + "Hi", "<0x0A>", kMeta + "there"}),
            (Strings{"Hi\n there"}));
}

// Each error names the file, the JSON path and the value.
void expect_format_error(const std::string& what, const std::string& json,
                         const std::vector<std::string>& parts) {
  try {
    const Json j = Json::parse(json);
    if (what == "normalizer") pplug::hf::parse_normalizer(JsonAt{j, kFile, "normalizer"});
    if (what == "pre_tokenizer") pplug::hf::parse_pre_tokenizer(JsonAt{j, kFile, "pre_tokenizer"});
    if (what == "decoder") pplug::hf::parse_decoder(JsonAt{j, kFile, "decoder"});
    ADD_FAILURE() << "no error for " << json;
  } catch (const pplug::FormatError& e) {
    for (const std::string& part : parts) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
          << "'" << part << "' not in: " << e.what();
    }
  }
}

TEST(HfTokenizerComponentErrors, UnknownTypesAndBadOptions) {
  expect_format_error("normalizer", R"({"type":"Precompiled"})",
                      {"tiny.json", "normalizer.type", "\"Precompiled\"", "unsupported"});
  expect_format_error("normalizer",
                      R"({"type":"Sequence","normalizers":[{"type":"NFC"},{"type":"X"}]})",
                      {"tiny.json", "normalizer.normalizers[1].type", "\"X\""});
  expect_format_error("pre_tokenizer", R"({"type":"UnicodeScripts"})",
                      {"tiny.json", "pre_tokenizer.type", "\"UnicodeScripts\""});
  expect_format_error("pre_tokenizer", split_json(R"({"String":"-"})", "Sideways"),
                      {"tiny.json", "pre_tokenizer.behavior", "\"Sideways\""});
  expect_format_error("pre_tokenizer", split_json(R"j({"Regex":"(unclosed"})j", "Isolated"),
                      {"tiny.json", "pre_tokenizer.pattern.Regex", "(unclosed", "cannot compile"});
  expect_format_error("pre_tokenizer", R"({"type":"Metaspace","prepend_scheme":"sometimes"})",
                      {"tiny.json", "pre_tokenizer.prepend_scheme", "\"sometimes\""});
  expect_format_error("decoder", R"({"type":"CTC"})", {"tiny.json", "decoder.type", "\"CTC\""});
  expect_format_error("decoder", R"({"type":"Strip","content":" ","start":-1,"stop":0})",
                      {"tiny.json", "decoder.start", "-1"});
  expect_format_error("decoder", R"({"decoders":[]})", {"tiny.json", "decoder", "type"});
}

// Catastrophic backtracking ends with a clear error instead of hanging or overflowing.
TEST(HfTokenizerPreTokenizers, RegexLimits) {
  const std::string json = split_json(R"j({"Regex":"(\\w+\\s?)+$"})j", "Isolated");
  try {
    pre_tokenize(json, std::string(40, 'a') + "!");
    ADD_FAILURE() << "no error";
  } catch (const pplug::Error& e) {
    EXPECT_NE(std::string(e.what()).find("limit"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("41-byte input"), std::string::npos) << e.what();
  }
}

}  // namespace
