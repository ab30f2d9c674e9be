// add_hf_vocab: a byte-level BPE tokenizer.json written as a GGUF "gpt2" vocabulary. The real
// Llama 3 and Qwen3 files go through it and back through pplug's GGUF reader and must still give
// Hugging Face's ids (llama.cpp's test cases, ../shared/models/*/README.md); the keys and value
// types are those of llama.cpp's own gpt2 vocabulary files; what llama.cpp cannot express is
// refused.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "format/gguf_metadata.h"
#include "format/gguf_writer.h"
#include "pplug/error.h"
#include "support/vocab_test_cases.h"
#include "tokenizer/hf/gguf_hf_vocab_writer.h"
#include "tokenizer/hf/hf_tokenizer.h"
#include "util/file_io.h"

namespace {

namespace fs = std::filesystem;
using pplug::detail::GgufMetadata;
using pplug::detail::GgufType;
using pplug::detail::GgufWriter;
using pplug::hf::HfTokenizer;
using Ids = std::vector<int>;

const std::string kModels = PPLUG_SHARED_MODELS;

using Case = pplug::testing::VocabTestCase;

// llama.cpp-style test files: `base`.inp and `base`.out.
std::vector<Case> read_cases(const std::string& base) {
  return pplug::testing::read_vocab_test_cases(base + ".inp", base + ".out");
}

// A fresh scratch path (file or folder) under the temp directory, removed when it goes.
class Scratch {
 public:
  explicit Scratch(const std::string& suffix) {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : name) c = c == '/' ? '_' : c;  // parameterized tests: "Name/param"
    path_ = (fs::temp_directory_path() /
             ("pplug_hf_vocab_writer_" +
              std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" + name + "_" +
              std::to_string(counter_++) + suffix))
                .string();
    fs::remove_all(path_);
  }
  ~Scratch() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

// Writes the vocabulary of `tokenizer` (rows as add_hf_vocab takes them) into `gguf`.
const std::string& write_vocab(const std::string& tokenizer, const Scratch& gguf,
                               int64_t rows = 0) {
  GgufWriter w;
  pplug::detail::add_hf_vocab(tokenizer, w, rows);
  w.write(gguf.path());
  return gguf.path();
}

std::string text_key(const GgufMetadata& meta, const std::string& key) {
  const auto* v = meta.find(key);
  return v != nullptr && v->type == GgufType::kString ? v->text : "<missing>";
}

struct RealTokenizer {
  const char* folder;
  const char* pre;
};

void PrintTo(const RealTokenizer& t, std::ostream* os) { *os << t.folder; }

class HfVocabRoundTrip : public ::testing::TestWithParam<RealTokenizer> {};

TEST_P(HfVocabRoundTrip, GgufGivesHfIds) {
  const std::string dir = kModels + "/" + GetParam().folder;
  if (!fs::exists(dir + "/tokenizer.json")) GTEST_SKIP() << "missing " << dir;
  const Scratch gguf(".gguf");
  const std::string& path = write_vocab(dir + "/tokenizer.json", gguf);
  const GgufMetadata meta = pplug::detail::read_gguf_metadata(path);
  EXPECT_EQ(meta.tensor_count, 0u);
  EXPECT_EQ(text_key(meta, "tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(text_key(meta, "tokenizer.ggml.pre"), GetParam().pre);
  const auto config =
      nlohmann::json::parse(pplug::detail::read_file(dir + "/tokenizer_config.json"));
  EXPECT_EQ(text_key(meta, "tokenizer.chat_template"),
            config.at("chat_template").get<std::string>());

  const HfTokenizer json = HfTokenizer::load(dir + "/tokenizer.json");
  const HfTokenizer tok = HfTokenizer::load(path);
  EXPECT_EQ(tok.vocab_size(), json.vocab_size());
  EXPECT_EQ(tok.bos_id(), json.bos_id());
  EXPECT_EQ(tok.eos_id(), json.eos_id());
  EXPECT_EQ(tok.unk_id(), json.unk_id());
  EXPECT_EQ(tok.pad_id(), json.pad_id());
  EXPECT_EQ(tok.adds_bos_by_default(), json.adds_bos_by_default());
  for (int id = 0; id < json.vocab_size(); ++id) {
    ASSERT_EQ(tok.id_to_piece(id), json.id_to_piece(id)) << "id " << id;
    if (json.is_special(id)) ASSERT_TRUE(tok.is_special(id)) << "id " << id;
  }

  const std::vector<Case> cases = read_cases(dir + "/tests");
  ASSERT_EQ(cases.size(), 46u);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Ids got = tok.encode(cases[i].text);
    EXPECT_EQ(got, cases[i].ids) << "case " << i << " \"" << cases[i].text << "\"";
    EXPECT_EQ(tok.decode(got), cases[i].text) << "case " << i;
  }
  // Added tokens, special or not, written in the text are split out as the tokenizer.json does.
  const std::string chat = json.id_to_piece(json.vocab_size() - 1) + " Hello" +
                           json.id_to_piece(json.eos_id() >= 0 ? json.eos_id() : 0) + "\n";
  EXPECT_EQ(tok.encode(chat), json.encode(chat)) << chat;
  EXPECT_EQ(tok.encode("Hi", true), json.encode("Hi", true));
}

INSTANTIATE_TEST_SUITE_P(RealFiles, HfVocabRoundTrip,
                         ::testing::Values(RealTokenizer{"llama3-tokenizer", "llama-bpe"},
                                           RealTokenizer{"qwen3-tokenizer", "qwen2"}),
                         [](const auto& info) {
                           std::string name = info.param.folder;
                           for (char& c : name) c = c == '-' ? '_' : c;
                           return name;
                         });

TEST(HfVocabWriter, QwenTypesAndPaddingRows) {
  const std::string dir = kModels + "/qwen3-tokenizer";
  if (!fs::exists(dir + "/tokenizer.json")) GTEST_SKIP() << "missing " << dir;
  const Scratch gguf(".gguf");
  // A folder stands for its tokenizer.json; 151669 ids go into Qwen's 151936 embedding rows.
  const std::string& path = write_vocab(dir, gguf, 151936);
  const GgufMetadata meta = pplug::detail::read_gguf_metadata(path);
  const auto& tokens = meta.find("tokenizer.ggml.tokens")->texts;
  const auto& types = meta.find("tokenizer.ggml.token_type")->integers;
  ASSERT_EQ(tokens.size(), 151936u);
  ASSERT_EQ(types.size(), 151936u);
  EXPECT_EQ(types[9707], 1);                  // "Hello"
  EXPECT_EQ(tokens[151644], "<|im_start|>");  // special
  EXPECT_EQ(types[151644], 3);
  EXPECT_EQ(tokens[151659], "<|fim_prefix|>");  // not special, but looks it: control
  EXPECT_EQ(types[151659], 3);
  EXPECT_EQ(tokens[151667], "<think>");  // not special: user-defined
  EXPECT_EQ(types[151667], 4);
  EXPECT_EQ(tokens[151669], "[PAD151669]");
  EXPECT_EQ(types[151669], 5);
  EXPECT_EQ(tokens[151935], "[PAD151935]");
  EXPECT_EQ(types[151935], 5);
  EXPECT_EQ(meta.find("tokenizer.ggml.merges")->texts.size(), 151387u);
  EXPECT_EQ(meta.find("tokenizer.ggml.merges")->texts[0], "\xC4\xA0 \xC4\xA0");
  EXPECT_EQ(meta.find("tokenizer.ggml.eos_token_id")->integer, 151645);      // <|im_end|>
  EXPECT_EQ(meta.find("tokenizer.ggml.padding_token_id")->integer, 151643);  // <|endoftext|>
  EXPECT_EQ(meta.find("tokenizer.ggml.bos_token_id"), nullptr);
  ASSERT_NE(meta.find("tokenizer.ggml.add_bos_token"), nullptr);
  EXPECT_EQ(meta.find("tokenizer.ggml.add_bos_token")->integer, 0);
  const HfTokenizer tok = HfTokenizer::load(path);
  // The padding rows are the model's, not the tokenizer's: read back, it ends where the
  // tokenizer.json does.
  EXPECT_EQ(tok.vocab_size(), 151669);
  EXPECT_EQ(tok.encode("Hello world<think>"), (Ids{9707, 1879, 151667}));

  const Scratch unused(".gguf");
  try {
    write_vocab(dir, unused, 151000);
    ADD_FAILURE() << "no error";
  } catch (const pplug::MismatchError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("151669"), std::string::npos) << what;
    EXPECT_NE(what.find("151000"), std::string::npos) << what;
  }
}

// Every tokenizer.* key of llama.cpp's own GPT-2 vocabulary is written, with its value type;
// the others are keys llama.cpp's converter writes, with the types it gives them.
TEST(HfVocabWriter, KeysAndTypesAreLlamaCpps) {
  const std::string dir = kModels + "/llama3-tokenizer";
  const std::string reference = kModels + "/gguf-vocab/ggml-vocab-gpt-2.gguf";
  if (!fs::exists(dir + "/tokenizer.json") || !fs::exists(reference)) {
    GTEST_SKIP() << "missing " << dir << " or " << reference;
  }
  const Scratch gguf(".gguf");
  const GgufMetadata ours = pplug::detail::read_gguf_metadata(write_vocab(dir, gguf));
  const GgufMetadata gpt2 = pplug::detail::read_gguf_metadata(reference);
  int shared = 0;
  for (const auto& [key, value] : gpt2.values) {
    if (key.rfind("tokenizer.", 0) != 0) continue;
    ++shared;
    const auto* mine = ours.find(key);
    ASSERT_NE(mine, nullptr) << key;
    EXPECT_EQ(mine->type, value.type) << key;
    if (value.type == GgufType::kArray) EXPECT_EQ(mine->element_type, value.element_type) << key;
  }
  EXPECT_EQ(shared, 7);  // model, pre, tokens, token_type, merges, bos and eos ids
  const std::map<std::string, GgufType> others = {
      {"tokenizer.ggml.unknown_token_id", GgufType::kUint32},
      {"tokenizer.ggml.padding_token_id", GgufType::kUint32},
      {"tokenizer.ggml.add_bos_token", GgufType::kBool},
      {"tokenizer.ggml.add_eos_token", GgufType::kBool},
      {"tokenizer.chat_template", GgufType::kString},
  };
  for (const auto& [key, value] : ours.values) {
    if (gpt2.find(key) != nullptr) continue;
    const auto it = others.find(key);
    ASSERT_NE(it, others.end()) << "unexpected key " << key;
    EXPECT_EQ(value.type, it->second) << key;
  }
  EXPECT_EQ(ours.find("tokenizer.ggml.tokens")->texts.size(), 128256u);
  EXPECT_EQ(ours.find("tokenizer.ggml.merges")->texts.size(), 280147u);
  EXPECT_EQ(ours.find("tokenizer.ggml.bos_token_id")->integer, 128000);
  EXPECT_EQ(ours.find("tokenizer.ggml.eos_token_id")->integer, 128001);
  // This tokenizer.json prepends no BOS and its tokenizer_config.json says nothing: the key is
  // left out, so llama.cpp's default for llama-bpe (add BOS) applies, as after its converter.
  EXPECT_EQ(ours.find("tokenizer.ggml.add_bos_token"), nullptr);
}

// A folder holding a tiny tokenizer.json (and tokenizer_config.json when `config` is not empty).
class TinyTokenizer {
 public:
  TinyTokenizer(const nlohmann::json& pre_tokenizer, const nlohmann::json& config = {},
                const nlohmann::json& model_extra = nlohmann::json::object())
      : dir_("") {
    fs::create_directories(dir_.path());
    nlohmann::json model = {{"type", "BPE"},
                            {"vocab", {{"h", 0}, {"i", 1}, {"hi", 2}, {"\xC4\xA0", 3}}},
                            {"merges", nlohmann::json::array({"h i"})}};
    model.update(model_extra);
    const nlohmann::json json = {{"version", "1.0"},
                                 {"normalizer", nullptr},
                                 {"pre_tokenizer", pre_tokenizer},
                                 {"post_processor", nullptr},
                                 {"decoder", {{"type", "ByteLevel"}}},
                                 {"model", model},
                                 {"added_tokens",
                                  {{{"id", 4}, {"content", "<|end|>"}, {"special", true}},
                                   {{"id", 6}, {"content", "<tool>"}, {"special", false}}}}};
    std::ofstream(dir_.path() + "/tokenizer.json") << json.dump();
    if (!config.is_null()) std::ofstream(dir_.path() + "/tokenizer_config.json") << config.dump();
  }
  const std::string& dir() const { return dir_.path(); }
  std::string file() const { return dir_.path() + "/tokenizer.json"; }

 private:
  Scratch dir_;
};

nlohmann::json byte_level(bool use_regex) {
  return {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", use_regex}};
}

nlohmann::json sequence(const nlohmann::json& steps) {
  return {{"type", "Sequence"}, {"pretokenizers", steps}};
}

std::string pre_of(const TinyTokenizer& tiny) {
  GgufWriter w;
  pplug::detail::add_hf_vocab(tiny.dir(), w);
  const Scratch gguf(".gguf");
  w.write(gguf.path());
  return text_key(pplug::detail::read_gguf_metadata(gguf.path()), "tokenizer.ggml.pre");
}

TEST(HfVocabWriter, TinyVocabularyTypesGapsAndTemplates) {
  const nlohmann::json config = {{"add_bos_token", true},
                                 {"add_eos_token", false},
                                 {"bos_token", "<|end|>"},
                                 {"chat_template",
                                  {{{"name", "default"}, {"template", "{{ messages }}"}},
                                   {{"name", "tool use"}, {"template", "{{ tools }}"}}}}};
  const TinyTokenizer tiny(byte_level(true), config);
  const Scratch gguf(".gguf");
  const GgufMetadata meta = pplug::detail::read_gguf_metadata(write_vocab(tiny.file(), gguf));
  EXPECT_EQ(text_key(meta, "tokenizer.ggml.pre"), "gpt-2");
  EXPECT_EQ(meta.find("tokenizer.ggml.tokens")->texts,
            (std::vector<std::string>{"h", "i", "hi", "\xC4\xA0", "<|end|>", "[PAD5]", "<tool>"}));
  EXPECT_EQ(meta.find("tokenizer.ggml.token_type")->integers,
            (std::vector<int64_t>{1, 1, 1, 1, 3, 5, 4}));
  EXPECT_EQ(meta.find("tokenizer.ggml.merges")->texts, (std::vector<std::string>{"h i"}));
  EXPECT_EQ(meta.find("tokenizer.ggml.bos_token_id")->integer, 4);
  EXPECT_EQ(meta.find("tokenizer.ggml.add_bos_token")->integer, 1);
  EXPECT_EQ(meta.find("tokenizer.ggml.add_eos_token")->integer, 0);
  EXPECT_EQ(text_key(meta, "tokenizer.chat_template"), "{{ messages }}");
  EXPECT_EQ(text_key(meta, "tokenizer.chat_template.tool_use"), "{{ tools }}");
  EXPECT_EQ(meta.find("tokenizer.chat_templates")->texts, (std::vector<std::string>{"tool_use"}));
  const HfTokenizer tok = HfTokenizer::load(gguf.path());
  EXPECT_EQ(tok.encode("hi<tool> hi<|end|>", true), (Ids{4, 2, 6, 3, 2, 4}));
  EXPECT_TRUE(tok.adds_bos_by_default());
}

TEST(HfVocabWriter, PreTokenizerNames) {
  // Digits one by one, then GPT-2's regex: smollm when decoding keeps spaces as they are,
  // starcoder (same regexes) when tokenizer_config.json asks for the clean-up.
  const nlohmann::json digits = {{"type", "Digits"}, {"individual_digits", true}};
  EXPECT_EQ(pre_of(TinyTokenizer(sequence({digits, byte_level(true)}))), "smollm");
  EXPECT_EQ(pre_of(TinyTokenizer(sequence({digits, byte_level(true)}),
                                 {{"clean_up_tokenization_spaces", false}})),
            "smollm");
  EXPECT_EQ(pre_of(TinyTokenizer(sequence({digits, byte_level(true)}),
                                 {{"clean_up_tokenization_spaces", true}})),
            "starcoder");
  // Llama 3's regex: llama-bpe with ignore_merges, smaug-bpe without.
  const nlohmann::json llama3 = {
      {"type", "Split"},
      {"pattern",
       {{"Regex",
         R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}}},
      {"behavior", "Isolated"},
      {"invert", false}};
  EXPECT_EQ(
      pre_of(TinyTokenizer(sequence({llama3, byte_level(false)}), {}, {{"ignore_merges", true}})),
      "llama-bpe");
  EXPECT_EQ(pre_of(TinyTokenizer(sequence({llama3, byte_level(false)}))), "smaug-bpe");
}

// The InvalidArgument message of writing `tokenizer`'s vocabulary, or "" when none is thrown.
std::string refusal(const std::string& tokenizer) {
  try {
    GgufWriter w;
    pplug::detail::add_hf_vocab(tokenizer, w);
  } catch (const pplug::InvalidArgument& e) {
    return e.what();
  }
  return "";
}

TEST(HfVocabWriter, UnmatchedPreTokenizerIsRefused) {
  const nlohmann::json words = {{"type", "Split"},
                                {"pattern", {{"Regex", R"( ?\p{L}+)"}}},
                                {"behavior", "Isolated"},
                                {"invert", false}};
  const TinyTokenizer tiny(sequence({words, byte_level(false)}));
  const std::string what = refusal(tiny.file());
  EXPECT_NE(what.find(tiny.file()), std::string::npos) << what;
  EXPECT_NE(what.find("tokenizer.ggml.pre"), std::string::npos) << what;
  EXPECT_NE(what.find(R"( ?\\p{L}+)"), std::string::npos) << what;  // the regex, JSON-quoted

  const nlohmann::json merged = {{"type", "Split"},
                                 {"pattern", {{"Regex", R"(\p{N})"}}},
                                 {"behavior", "MergedWithPrevious"},
                                 {"invert", false}};
  EXPECT_NE(refusal(TinyTokenizer(sequence({merged, byte_level(true)})).file()).find("Isolated"),
            std::string::npos);
  const nlohmann::json prefix = {{"type", "ByteLevel"}, {"add_prefix_space", true}};
  EXPECT_NE(refusal(TinyTokenizer(prefix).file()).find("add_prefix_space"), std::string::npos);
  const nlohmann::json whitespace = {{"type", "Whitespace"}};
  EXPECT_NE(refusal(TinyTokenizer(whitespace).file()).find("ByteLevel"), std::string::npos);
}

TEST(HfVocabWriter, OtherTokenizerKindsAreRefused) {
  const Scratch dir("");
  fs::create_directories(dir.path());
  const std::string file = dir.path() + "/tokenizer.json";
  const auto refusal_of = [&](const nlohmann::json& json) {
    std::ofstream(file) << json.dump();
    return refusal(file);
  };
  const nlohmann::json wordpiece = {
      {"normalizer", {{"type", "BertNormalizer"}}},
      {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
      {"decoder", {{"type", "WordPiece"}}},
      {"model", {{"type", "WordPiece"}, {"unk_token", "[UNK]"}, {"vocab", {{"[UNK]", 0}}}}}};
  std::string what = refusal_of(wordpiece);
  EXPECT_NE(what.find("WordPiece"), std::string::npos) << what;
  EXPECT_NE(what.find(file), std::string::npos) << what;

  const nlohmann::json metaspace = {{"type", "Metaspace"}, {"replacement", "\xE2\x96\x81"}};
  const nlohmann::json spm = {
      {"normalizer", nullptr},
      {"pre_tokenizer", metaspace},
      {"decoder", {{"type", "Sequence"}, {"decoders", nlohmann::json::array({metaspace})}}},
      {"model",
       {{"type", "BPE"},
        {"byte_fallback", true},
        {"vocab", {{"<unk>", 0}}},
        {"merges", nlohmann::json::array()}}}};
  what = refusal_of(spm);
  EXPECT_NE(what.find("SentencePiece-style"), std::string::npos) << what;

  nlohmann::json lowercase =
      nlohmann::json::parse(pplug::detail::read_file(TinyTokenizer(byte_level(true)).file()));
  lowercase["normalizer"] = {{"type", "Lowercase"}};
  what = refusal_of(lowercase);
  EXPECT_NE(what.find("Lowercase"), std::string::npos) << what;
}

}  // namespace
