// pplug::Tokenizer over every file kind it reads (tokenizer.json, a folder, a GGUF vocabulary,
// SentencePiece), in the libtorch process: the ids Hugging Face gives (llama.cpp's test cases in
// ../shared/models/*-tokenizer), decoding, special ids, and the errors for bad paths.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "format/gguf_writer.h"
#include "pplug/error.h"
#include "pplug/model_io.h"
#include "pplug/tokenizer.h"
#include "support/test_models.h"
#include "support/vocab_test_cases.h"
#include "util/file_io.h"

namespace pplug {
namespace {

namespace fs = std::filesystem;
using Ids = std::vector<int>;
using Json = nlohmann::json;

using FixtureCase = testing::VocabTestCase;

// llama.cpp's vocab tests: X.inp and the X.out beside it.
std::vector<FixtureCase> read_cases(const std::string& inp) {
  const auto cases = testing::read_vocab_test_cases(inp, inp.substr(0, inp.size() - 3) + "out");
  EXPECT_EQ(cases.size(), testing::read_vocab_test_inputs(inp).size()) << inp;
  return cases;
}

// Every fixture case encodes to HF's ids and decodes back to its text.
void expect_fixture(const Tokenizer& tok, const std::string& inp) {
  const auto cases = read_cases(inp);
  ASSERT_GT(cases.size(), 10u);
  for (const FixtureCase& c : cases) {
    EXPECT_EQ(tok.encode(c.text), c.ids) << "text: \"" << c.text << "\"";
    EXPECT_EQ(tok.decode(c.ids), c.text);
  }
}

template <typename E>
std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an exception";
  return "";
}

void symlink_into(const std::string& target, const std::string& dir, const std::string& name) {
  fs::create_symlink(target, fs::path(dir) / name);
}

TEST(TokenizerFormats, Llama3TokenizerJsonGivesHfIds) {
  PPLUG_REQUIRE_SHARED(json, "llama3-tokenizer/tokenizer.json");
  const Tokenizer tok(json);
  EXPECT_EQ(tok.path(), json);
  EXPECT_EQ(tok.vocab_size(), 128256);
  // tokenizer_config.json beside it names them.
  EXPECT_EQ(tok.bos_id(), 128000);
  EXPECT_EQ(tok.eos_id(), 128001);
  EXPECT_EQ(tok.pad_id(), -1);
  EXPECT_EQ(tok.unk_id(), -1);
  EXPECT_EQ(tok.encode("Hello world"), (Ids{9906, 1917}));
  EXPECT_EQ(tok.encode("Hello world", true, true), (Ids{128000, 9906, 1917, 128001}));
  expect_fixture(tok, (fs::path(json).parent_path() / "tests.inp").string());
}

TEST(TokenizerFormats, Qwen3TokenizerJsonGivesHfIds) {
  PPLUG_REQUIRE_SHARED(json, "qwen3-tokenizer/tokenizer.json");
  const Tokenizer tok(json);
  EXPECT_EQ(tok.bos_id(), -1);  // Qwen has no BOS: add_bos is then a no-op
  EXPECT_EQ(tok.eos_id(), tok.piece_to_id("<|im_end|>"));
  EXPECT_EQ(tok.pad_id(), tok.piece_to_id("<|endoftext|>"));
  EXPECT_EQ(tok.eos_id(), 151645);
  EXPECT_EQ(tok.encode("Hello world", true), tok.encode("Hello world"));
  expect_fixture(tok, (fs::path(json).parent_path() / "tests.inp").string());
}

TEST(TokenizerFormats, ControlTokensDecodeToNothing) {
  PPLUG_REQUIRE_SHARED(json, "llama3-tokenizer/tokenizer.json");
  const Tokenizer tok(json);
  const int header = tok.piece_to_id("<|start_header_id|>");
  EXPECT_EQ(header, 128006);
  EXPECT_TRUE(tok.is_control(tok.bos_id()));
  EXPECT_TRUE(tok.is_control(header));
  EXPECT_FALSE(tok.is_control(9906));
  EXPECT_FALSE(tok.is_byte(9906));  // byte-level BPE has no <0xNN> pieces
  // Special tokens written in the text are recognised, and give no text back.
  const Ids ids = tok.encode("<|start_header_id|>user<|end_header_id|>\n\nHi", true, true);
  EXPECT_EQ(ids.front(), 128000);
  EXPECT_EQ(ids[1], header);
  EXPECT_EQ(tok.decode(ids), "user\n\nHi");
  EXPECT_EQ(tok.id_to_piece(22691), "\xC4\xA0Hello");  // "ĠHello"
  EXPECT_EQ(tok.piece_to_id("\xC4\xA0Hello"), 22691);
  EXPECT_EQ(tok.piece_to_id("no such piece"), -1);  // no unknown token
  EXPECT_THROW(tok.decode({9906, 128256}), InvalidArgument);
  EXPECT_THROW(tok.decode({-1}), InvalidArgument);
  EXPECT_THROW(tok.id_to_piece(128256), InvalidArgument);
}

TEST(TokenizerFormats, FolderReadsTokenizerJsonFirst) {
  PPLUG_REQUIRE_SHARED(json, "llama3-tokenizer/tokenizer.json");
  const std::string folder = fs::path(json).parent_path().string();
  const Tokenizer from_folder(folder);
  EXPECT_EQ(from_folder.path(), (fs::path(folder) / "tokenizer.json").string());
  EXPECT_EQ(from_folder.bos_id(), 128000);
  EXPECT_EQ(from_folder.encode(" Hello world"), (Ids{22691, 1917}));

  PPLUG_REQUIRE_SHARED(spm, "llama2-tokenizer/tokenizer.model");
  const std::string both = testing::temp_dir("tok_both");
  symlink_into(json, both, "tokenizer.json");
  symlink_into(spm, both, "tokenizer.model");
  // As HF transformers: tokenizer.json wins over tokenizer.model.
  EXPECT_EQ(Tokenizer(both).vocab_size(), 128256);
  const std::string only_spm = testing::temp_dir("tok_spm");
  symlink_into(spm, only_spm, "tokenizer.model");
  const Tokenizer sp(only_spm);
  EXPECT_EQ(sp.vocab_size(), 32000);
  EXPECT_EQ(sp.path(), (fs::path(only_spm) / "tokenizer.model").string());
}

TEST(TokenizerFormats, FindTokenizerInAnHfFolder) {
  PPLUG_REQUIRE_SHARED(json, "llama3-tokenizer/tokenizer.json");
  const std::string dir = testing::temp_dir("find_tok_json");
  std::ofstream(dir + "/config.json") << "{}";
  symlink_into(json, dir, "tokenizer.json");
  EXPECT_EQ(find_tokenizer(dir), (fs::path(dir) / "tokenizer.json").string());
  // tokenizer.model keeps precedence here, so folders load as they did before.
  PPLUG_REQUIRE_SHARED(spm, "llama2-tokenizer/tokenizer.model");
  symlink_into(spm, dir, "tokenizer.model");
  EXPECT_EQ(find_tokenizer(dir), (fs::path(dir) / "tokenizer.model").string());
}

TEST(TokenizerFormats, FindTokenizerNamesTheFolderAndWhatItLookedFor) {
  const std::string dir = testing::temp_dir("find_tok_none");
  std::ofstream(dir + "/config.json") << "{}";
  const std::string what = error_of<FormatError>([&] { find_tokenizer(dir); });
  EXPECT_NE(what.find(dir), std::string::npos) << what;
  EXPECT_NE(what.find("tokenizer.model"), std::string::npos) << what;
  EXPECT_NE(what.find("tokenizer.json"), std::string::npos) << what;
}

TEST(TokenizerFormats, LoadModelUsesTheFolderTokenizerJson) {
  PPLUG_REQUIRE_SHARED(json, "llama3-tokenizer/tokenizer.json");
  LlamaConfig config = testing::tiny_config(128256);
  config.tie_word_embeddings = true;
  const std::string dir = testing::temp_dir("hf_json_model");
  save_hf_model(random_model(config, 3), dir, json);
  EXPECT_TRUE(fs::exists(fs::path(dir) / "tokenizer.json"));
  EXPECT_TRUE(fs::exists(fs::path(dir) / "tokenizer_config.json"));
  EXPECT_FALSE(fs::exists(fs::path(dir) / "tokenizer.model"));
  const LoadedModel loaded = load_model(dir);
  ASSERT_TRUE(loaded.tokenizer);
  EXPECT_EQ(loaded.tokenizer->path(), (fs::path(dir) / "tokenizer.json").string());
  EXPECT_EQ(loaded.tokenizer->bos_id(), 128000);
  EXPECT_EQ(loaded.tokenizer->encode("Hello world"), (Ids{9906, 1917}));
}

TEST(TokenizerFormats, GgufGpt2VocabularyLoads) {
  PPLUG_REQUIRE_SHARED(gguf, "gguf-vocab/ggml-vocab-gpt-2.gguf");
  const Tokenizer tok(gguf);
  EXPECT_EQ(tok.vocab_size(), 50257);
  EXPECT_EQ(tok.encode("Hello world"), (Ids{15496, 995}));
  EXPECT_EQ(tok.bos_id(), 50256);  // tokenizer.ggml.bos_token_id
  EXPECT_EQ(tok.eos_id(), 50256);
  EXPECT_TRUE(tok.is_control(tok.piece_to_id("<|endoftext|>")));
  expect_fixture(tok, gguf + ".inp");
}

// llama.cpp's WordPiece vocabulary of BGE (bert-base-uncased's tokens in its phantom-space
// form) reads as BERT's tokenizer: the ids are bert-base-uncased's (see
// tests/base/tokenizer/hf/hf_gguf_bert_test.cpp for the comparison with vocab.txt).
TEST(TokenizerFormats, GgufBertVocabularyLoads) {
  PPLUG_REQUIRE_SHARED(gguf, "gguf-vocab/ggml-vocab-bert-bge.gguf");
  const Tokenizer tok(gguf);
  EXPECT_EQ(tok.vocab_size(), 30522);
  EXPECT_EQ(tok.encode("Hello, world!"), (Ids{7592, 1010, 2088, 999}));
  EXPECT_EQ(
      tok.encode("H\xC3\xA9llo embeddings", true, true),
      (Ids{101, 7592, 7861, 8270, 4667, 2015, 102}));  // [CLS] hello em ##bed ##ding ##s [SEP]
  EXPECT_EQ(tok.bos_id(), 101);                        // [CLS]
  EXPECT_EQ(tok.eos_id(), 102);                        // [SEP]
  EXPECT_EQ(tok.unk_id(), 100);
  EXPECT_EQ(tok.pad_id(), 0);
  EXPECT_TRUE(tok.is_control(101));
  EXPECT_FALSE(tok.is_control(7592));
  EXPECT_EQ(tok.id_to_piece(2015), "##s");
  EXPECT_EQ(tok.decode({101, 7592, 1010, 2088, 999, 102}), "hello, world!");
}

TEST(TokenizerFormats, GgufOfAnUnknownModelTypeIsRefused) {
  const std::string path =
      (fs::temp_directory_path() /
       ("pplug_tokenizer_formats_" +
        std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_rwkv.gguf"))
          .string();
  detail::GgufWriter w;
  w.add_string("tokenizer.ggml.model", "rwkv");
  w.add_strings("tokenizer.ggml.tokens", {"a", "b"});
  w.write(path);
  const std::string what = error_of<FormatError>([&] { Tokenizer tok(path); });
  fs::remove(path);
  EXPECT_NE(what.find(path), std::string::npos) << what;
  EXPECT_NE(what.find("tokenizer.ggml.model"), std::string::npos) << what;
  EXPECT_NE(what.find("\"rwkv\""), std::string::npos) << what;
}

// SentencePiece-style BPE in tokenizer.json (as TinyLlama and Mistral ship it): <0xNN> pieces
// are bytes, <unk> stands in for unknown pieces.
TEST(TokenizerFormats, ByteFallbackTokenizerJson) {
  const std::string meta = "\xE2\x96\x81";
  const std::vector<std::string> tokens{"<unk>", "<s>", "</s>", "<0x0A>",   "<0xC3>",   "<0xA9>",
                                        meta,    "H",   "i",    meta + "H", meta + "Hi"};
  Json vocab = Json::object();
  for (std::size_t i = 0; i < tokens.size(); ++i) vocab[tokens[i]] = i;
  const auto added = [](int id, const std::string& content) {
    return Json{{"id", id},        {"content", content},  {"single_word", false}, {"lstrip", false},
                {"rstrip", false}, {"normalized", false}, {"special", true}};
  };
  const Json j = {{"version", "1.0"},
                  {"added_tokens", {added(0, "<unk>"), added(1, "<s>"), added(2, "</s>")}},
                  {"normalizer", Json::parse(R"({"type":"Sequence","normalizers":[
          {"type":"Prepend","prepend":"▁"},
          {"type":"Replace","pattern":{"String":" "},"content":"▁"}]})")},
                  {"pre_tokenizer", nullptr},
                  {"post_processor", nullptr},
                  {"decoder", Json::parse(R"({"type":"Sequence","decoders":[
          {"type":"Replace","pattern":{"String":"▁"},"content":" "},{"type":"ByteFallback"},
          {"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]})")},
                  {"model",
                   {{"type", "BPE"},
                    {"vocab", vocab},
                    {"merges", {meta + " H", meta + "H i"}},
                    {"unk_token", "<unk>"},
                    {"byte_fallback", true}}}};
  const std::string dir = testing::temp_dir("tok_byte_fallback");
  std::ofstream(dir + "/tokenizer.json") << j.dump();
  std::ofstream(dir + "/tokenizer_config.json")
      << R"({"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"})";
  const Tokenizer tok(dir);
  EXPECT_EQ(tok.bos_id(), 1);
  EXPECT_EQ(tok.eos_id(), 2);
  EXPECT_EQ(tok.unk_id(), 0);
  EXPECT_EQ(tok.encode("Hi \xC3\xA9\n", true), (Ids{1, 10, 6, 4, 5, 3}));
  EXPECT_EQ(tok.decode({1, 10, 6, 4, 5, 3, 2}), "Hi \xC3\xA9\n");
  EXPECT_TRUE(tok.is_byte(3));
  EXPECT_TRUE(tok.is_byte(tok.piece_to_id("<0xC3>")));
  EXPECT_FALSE(tok.is_byte(10));
  EXPECT_FALSE(tok.is_byte(99));
  EXPECT_TRUE(tok.is_control(1));
  EXPECT_FALSE(tok.is_control(10));
  EXPECT_EQ(tok.piece_to_id("no such piece"), 0);  // unk_id()
}

TEST(TokenizerFormats, BadPathsAndUnknownKindsNameThePath) {
  const std::string missing = "/nonexistent/tokenizer.json";
  std::string what = error_of<FormatError>([&] { Tokenizer tok(missing); });
  EXPECT_NE(what.find(missing), std::string::npos) << what;

  const std::string dir = testing::temp_dir("tok_bad");
  what = error_of<FormatError>([&] { Tokenizer tok(dir); });
  EXPECT_NE(what.find(dir), std::string::npos) << what;
  EXPECT_NE(what.find("tokenizer.json"), std::string::npos) << what;

  std::ofstream(dir + "/notes.txt") << "just some words, not a tokenizer";
  what = error_of<FormatError>([&] { Tokenizer tok(dir + "/notes.txt"); });
  EXPECT_NE(what.find(dir + "/notes.txt"), std::string::npos) << what;
  EXPECT_NE(what.find("not a tokenizer file"), std::string::npos) << what;

  std::ofstream(dir + "/broken.json") << R"({"model": )";
  what = error_of<FormatError>([&] { Tokenizer tok(dir + "/broken.json"); });
  EXPECT_NE(what.find(dir + "/broken.json"), std::string::npos) << what;

  // No telling extension: the first bytes decide ("{" is JSON).
  std::ofstream(dir + "/tok") << R"({"version": "1.0"})";
  what = error_of<FormatError>([&] { Tokenizer tok(dir + "/tok"); });
  EXPECT_NE(what.find("\"model\""), std::string::npos) << what;
}

}  // namespace
}  // namespace pplug

namespace pplug {
namespace {

// llama.cpp's Llama SentencePiece vocabulary (GGUF, tokenizer.ggml.model "llama") runs through
// sentencepiece itself and must tokenize as the Llama 2 tokenizer.model it was made from.
TEST(TokenizerFormats, LlamaSpmGgufVocabularyTokenizesAsTheLlama2Model) {
  PPLUG_REQUIRE_SHARED(gguf, "gguf-vocab/ggml-vocab-llama-spm.gguf");
  PPLUG_REQUIRE_SHARED(model, "llama2-tokenizer/tokenizer.model");
  PPLUG_REQUIRE_SHARED(inputs, "llama3-tokenizer/tests.inp");
  const Tokenizer from_gguf(gguf);
  const Tokenizer reference(model);
  ASSERT_EQ(from_gguf.vocab_size(), reference.vocab_size());
  EXPECT_EQ(from_gguf.bos_id(), reference.bos_id());
  EXPECT_EQ(from_gguf.eos_id(), reference.eos_id());
  EXPECT_EQ(from_gguf.unk_id(), reference.unk_id());
  const auto cases = read_cases(inputs);
  ASSERT_GT(cases.size(), 40u);
  for (const auto& c : cases) {
    const auto want = reference.encode(c.text, true);
    EXPECT_EQ(from_gguf.encode(c.text, true), want) << c.text;
    EXPECT_EQ(from_gguf.decode(want), reference.decode(want)) << c.text;
  }
  for (int id : {0, 1, 2, 3, 259, 13, 31999}) {
    EXPECT_EQ(from_gguf.id_to_piece(id), reference.id_to_piece(id)) << id;
    EXPECT_EQ(from_gguf.is_byte(id), reference.is_byte(id)) << id;
    EXPECT_EQ(from_gguf.is_control(id), reference.is_control(id)) << id;
  }
}

}  // namespace
}  // namespace pplug
