// GGUF vocabularies of model type "bert" (llama.cpp's WordPiece). The BGE vocabulary
// (../shared/models/gguf-vocab/ggml-vocab-bert-bge.gguf) is bert-base-uncased's: it must give the
// ids of pplug::WordPieceTokenizer over ../shared/models/bert-base-uncased-vocab/vocab.txt, whose
// ids tests/base/text/wordpiece_test.cpp checks against Hugging Face's BertTokenizer. Tiny
// vocabularies written here cover the token mapping, the special ids and the errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "format/gguf_writer.h"
#include "pplug/error.h"
#include "pplug/wordpiece.h"
#include "support/vocab_test_cases.h"
#include "tokenizer/hf/hf_tokenizer.h"
#include "util/file_io.h"

namespace {

namespace fs = std::filesystem;
using pplug::hf::HfTokenizer;
using Ids = std::vector<int>;

const std::string kBge = PPLUG_SHARED_MODELS "/gguf-vocab/ggml-vocab-bert-bge.gguf";
const std::string kVocabTxt = PPLUG_SHARED_MODELS "/bert-base-uncased-vocab/vocab.txt";
// llama.cpp's 46 tokenizer test inputs (the same file for every vocabulary).
const std::string kInputs = PPLUG_SHARED_MODELS "/gguf-vocab/ggml-vocab-gpt-2.gguf.inp";

using pplug::testing::read_vocab_test_inputs;

// Accents, CJK, Hangul, punctuation, controls, long words and literal special tokens.
const std::vector<std::string> kMoreInputs = {
    "Héllo Wörld",
    "He\xCC\x81llo",  // e + U+0301 combining acute
    "Ça va? Éléphant naïve café",
    "ÅNGSTRÖM İstanbul ΟΔΟΣ",
    "mañana unaffable embeddings",
    "中文 ab中cd 他说中文很好",
    "한국어",
    "日本語のテキスト",
    "“quoted” — dash… I’m",
    "$5+3=8 ¡Hola! ¿Cómo estás?",
    "hello\xE2\x98\x83world hi",  // U+2603: not punctuation, nothing covers it
    std::string("a\0b\x07"
                "c\xEF\xBF\xBD"
                "d",
                7),
    "hel\xE2\x80\x8Blo hel\xFFlo",  // U+200B (Cf), an invalid byte
    "hello\xC2\xA0world\xE3\x80\x80"
    "again one\xE2\x80\xA8two",
    std::string(100, 'a') + " " + std::string(101, 'b') + " ok",
    "[CLS] hi [SEP] x[MASK]y [cls] [UNK]",
    "don't can't it's we're they've I'll",
    "(parenthesised), 'quoted', \"double\"; colon: semi; a-b_c/d\\e",
    "Ünïcödé façade coöperate résumé",
    "e-mail: someone@example.com, url: https://example.com/a?b=c#d",
};

TEST(HfTokenizerGgufBert, BgeVocabularyIsBertBaseUncased) {
  if (!fs::exists(kBge) || !fs::exists(kVocabTxt)) GTEST_SKIP() << "missing " << kBge;
  const HfTokenizer gguf = HfTokenizer::load(kBge);
  const pplug::WordPieceTokenizer txt(kVocabTxt);
  ASSERT_EQ(gguf.vocab_size(), txt.vocab_size());
  int differing = 0;
  for (int id = 0; id < txt.vocab_size(); ++id) {
    if (gguf.id_to_piece(id) != txt.id_to_token(id) && ++differing <= 5) {
      ADD_FAILURE() << "id " << id << ": \"" << gguf.id_to_piece(id) << "\" vs \""
                    << txt.id_to_token(id) << "\"";
    }
  }
  EXPECT_EQ(differing, 0);
  EXPECT_EQ(gguf.piece_to_id("##ing"), txt.token_to_id("##ing"));
  EXPECT_EQ(gguf.piece_to_id("no-such-token"), 100);
  EXPECT_EQ(gguf.unk_id(), txt.unk_id());
  EXPECT_EQ(gguf.bos_id(), txt.cls_id());
  EXPECT_EQ(gguf.eos_id(), txt.sep_id());
  EXPECT_EQ(gguf.pad_id(), txt.pad_id());
  EXPECT_TRUE(gguf.adds_bos_by_default());
  for (int id : {0, 100, 101, 102, 103}) EXPECT_TRUE(gguf.is_special(id)) << id;
  EXPECT_FALSE(gguf.is_special(1));     // [unused0]: a normal token
  EXPECT_FALSE(gguf.is_special(7592));  // hello
}

TEST(HfTokenizerGgufBert, BgeEncodesAsTheVocabTxtWordPiece) {
  if (!fs::exists(kBge) || !fs::exists(kVocabTxt) || !fs::exists(kInputs)) {
    GTEST_SKIP() << "missing " << kBge << ", " << kVocabTxt << " or " << kInputs;
  }
  const HfTokenizer gguf = HfTokenizer::load(kBge);
  const pplug::WordPieceTokenizer txt(kVocabTxt);
  std::vector<std::string> inputs = read_vocab_test_inputs(kInputs);
  ASSERT_EQ(inputs.size(), 46u);
  inputs.insert(inputs.end(), kMoreInputs.begin(), kMoreInputs.end());
  int matched = 0;
  int round_trips = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const std::string& text = inputs[i];
    const Ids ids = gguf.encode(text);
    const Ids want = txt.encode(text);
    if (ids != want) {
      ADD_FAILURE() << "input " << i << " \"" << text << "\": got " << ::testing::PrintToString(ids)
                    << ", want " << ::testing::PrintToString(want);
      continue;
    }
    ++matched;
    EXPECT_EQ(gguf.encode(text, true, true), txt.encode_for_model(text, 1 << 20)) << text;
    // Decoding loses case, accents and spacing, but what it gives encodes to the same ids, as
    // long as no word became [UNK] (which decodes to nothing).
    if (std::find(ids.begin(), ids.end(), gguf.unk_id()) != ids.end()) continue;
    EXPECT_EQ(gguf.encode(gguf.decode(ids)), ids) << "input " << i << " \"" << text << "\"";
    ++round_trips;
  }
  std::cout << "[ info     ] bert-bge: " << matched << "/" << inputs.size()
            << " inputs give the vocab.txt ids; " << round_trips << " decoded and re-encoded\n";
}

TEST(HfTokenizerGgufBert, BgeDecodes) {
  if (!fs::exists(kBge)) GTEST_SKIP() << "missing " << kBge;
  const HfTokenizer gguf = HfTokenizer::load(kBge);
  EXPECT_EQ(gguf.encode("Hello, world!"), (Ids{7592, 1010, 2088, 999}));
  EXPECT_EQ(gguf.decode({101, 7592, 1010, 2088, 999, 102}), "hello, world!");
  EXPECT_EQ(gguf.decode(gguf.encode("Héllo Wörld embeddings")), "hello world embeddings");
  // HF's WordPiece decoder cleans up each token on its own, so " ' " never matches (Python's
  // clean_up_tokenization_spaces would, but pplug does not apply it).
  EXPECT_EQ(gguf.decode(gguf.encode("don't stop")), "don ' t stop");
  EXPECT_THROW(gguf.decode({30522}), pplug::InvalidArgument);
}

// A scratch GGUF file removed at the end of the test.
class TempGguf {
 public:
  TempGguf()
      : path_((fs::temp_directory_path() /
               ("pplug_gguf_bert_" +
                std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".gguf"))
                  .string()) {}
  ~TempGguf() { fs::remove(path_); }
  const std::string& write(const pplug::detail::GgufWriter& w) const {
    w.write(path_);
    return path_;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

const std::string kMeta = "\xE2\x96\x81";  // U+2581

// A phantom-space vocabulary as llama.cpp's converter writes it: [PAD] [UNK] [CLS] [SEP] hello
// world ##s , ! caf ##e.
pplug::detail::GgufWriter tiny_bert(bool with_ids = true, bool with_unk_token = true) {
  pplug::detail::GgufWriter w;
  w.add_string("tokenizer.ggml.model", "bert");
  w.add_string("tokenizer.ggml.pre", "bert-bge");
  w.add_strings("tokenizer.ggml.tokens",
                {"[PAD]", with_unk_token ? "[UNK]" : "[NOPE]", "[CLS]", "[SEP]", kMeta + "hello",
                 kMeta + "world", "s", kMeta + ",", kMeta + "!", kMeta + "caf", "e"});
  w.add_int32s("tokenizer.ggml.token_type", {3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1});
  if (with_ids) {
    w.add_uint32("tokenizer.ggml.unknown_token_id", 1);
    w.add_uint32("tokenizer.ggml.seperator_token_id", 3);
    w.add_uint32("tokenizer.ggml.padding_token_id", 0);
    w.add_uint32("tokenizer.ggml.cls_token_id", 2);
  }
  return w;
}

// The message of the FormatError thrown by loading `path`, or "" when none is thrown.
std::string load_error(const std::string& path) {
  try {
    HfTokenizer::load(path);
  } catch (const pplug::FormatError& e) {
    return e.what();
  }
  return "";
}

TEST(HfTokenizerGgufBert, TinyVocabularyUndoesThePhantomSpace) {
  TempGguf file;
  const HfTokenizer tok = HfTokenizer::load(file.write(tiny_bert()));
  EXPECT_EQ(tok.vocab_size(), 11);
  EXPECT_EQ(tok.id_to_piece(4), "hello");
  EXPECT_EQ(tok.id_to_piece(6), "##s");
  EXPECT_EQ(tok.id_to_piece(2), "[CLS]");
  EXPECT_EQ(tok.piece_to_id("##e"), 10);
  EXPECT_EQ(tok.piece_to_id(kMeta + "hello"), 1);  // the GGUF spelling is not a token
  EXPECT_EQ(tok.encode("Hello, WORLDS! Caf\xC3\xA9 xyz"), (Ids{4, 7, 5, 6, 8, 9, 10, 1}));
  EXPECT_EQ(tok.encode("worldss"), (Ids{5, 6, 6}));
  EXPECT_EQ(tok.encode("[CLS] hello", true, true), (Ids{2, 2, 4, 3}));
  EXPECT_EQ(tok.unk_id(), 1);
  EXPECT_EQ(tok.bos_id(), 2);
  EXPECT_EQ(tok.eos_id(), 3);
  EXPECT_EQ(tok.pad_id(), 0);
  EXPECT_EQ(tok.decode({2, 4, 7, 5, 6, 8, 9, 10, 3}), "hello, worlds! cafe");
}

TEST(HfTokenizerGgufBert, SpecialIdsWithoutKeysComeFromTheTokenNames) {
  TempGguf file;
  const HfTokenizer tok = HfTokenizer::load(file.write(tiny_bert(/*with_ids=*/false)));
  EXPECT_EQ(tok.unk_id(), 1);
  EXPECT_EQ(tok.bos_id(), 2);
  EXPECT_EQ(tok.eos_id(), 3);
  EXPECT_EQ(tok.pad_id(), 0);
  EXPECT_EQ(tok.encode("xyz"), (Ids{1}));
}

TEST(HfTokenizerGgufBert, KeysTakePrecedenceOverNames) {
  TempGguf file;
  pplug::detail::GgufWriter w = tiny_bert(/*with_ids=*/false);
  w.add_uint32("tokenizer.ggml.bos_token_id", 4);  // before cls_token_id
  w.add_uint32("tokenizer.ggml.cls_token_id", 2);
  w.add_uint32("tokenizer.ggml.eos_token_id", 5);  // after seperator_token_id
  w.add_uint32("tokenizer.ggml.seperator_token_id", 3);
  w.add_bool("tokenizer.ggml.add_bos_token", false);
  const HfTokenizer tok = HfTokenizer::load(file.write(w));
  EXPECT_EQ(tok.bos_id(), 4);
  EXPECT_EQ(tok.eos_id(), 3);
  EXPECT_FALSE(tok.adds_bos_by_default());
}

TEST(HfTokenizerGgufBert, MalformedVocabulariesNameTheFileAndKey) {
  TempGguf file;
  const auto expect_error = [&](const pplug::detail::GgufWriter& w, const std::string& key,
                                const std::string& detail) {
    const std::string what = load_error(file.write(w));
    EXPECT_NE(what.find(file.path()), std::string::npos) << what;
    EXPECT_NE(what.find(key), std::string::npos) << what;
    EXPECT_NE(what.find(detail), std::string::npos) << what;
  };
  // No unknown token: neither the key nor a token called [UNK].
  expect_error(tiny_bert(false, false), "tokenizer.ggml.unknown_token_id", "[UNK]");
  {
    pplug::detail::GgufWriter w = tiny_bert(false);
    w.add_uint32("tokenizer.ggml.unknown_token_id", 11);
    expect_error(w, "tokenizer.ggml.unknown_token_id", "got 11");
  }
  {
    pplug::detail::GgufWriter w = tiny_bert(false);
    w.add_int32("tokenizer.ggml.cls_token_id", -1);
    expect_error(w, "tokenizer.ggml.cls_token_id", "got -1");
  }
  {
    pplug::detail::GgufWriter w = tiny_bert(false);
    w.add_uint32("tokenizer.ggml.mask_token_id", 1000);
    expect_error(w, "tokenizer.ggml.mask_token_id", "got 1000");
  }
  {
    pplug::detail::GgufWriter w = tiny_bert(false);
    w.add_string("tokenizer.ggml.seperator_token_id", "[SEP]");
    expect_error(w, "tokenizer.ggml.seperator_token_id", "integer");
  }
  {
    // "\u2581##s" and "s" are both the WordPiece token "##s".
    pplug::detail::GgufWriter w;
    w.add_string("tokenizer.ggml.model", "bert");
    w.add_strings("tokenizer.ggml.tokens", {"[UNK]", "s", kMeta + "##s"});
    expect_error(w, "tokenizer.ggml.tokens\"[2]", "as is token 1");
  }
  {
    pplug::detail::GgufWriter w;
    w.add_string("tokenizer.ggml.model", "bert");
    w.add_strings("tokenizer.ggml.tokens", {"[UNK]", kMeta + "a"});
    w.add_int32s("tokenizer.ggml.token_type", {3});
    expect_error(w, "tokenizer.ggml.token_type", "1 integer entries for 2 tokens");
  }
  {
    pplug::detail::GgufWriter w;
    w.add_string("tokenizer.ggml.model", "bert");
    expect_error(w, "tokenizer.ggml.tokens", "missing");
  }
}

TEST(HfTokenizerGgufBert, UnknownModelTypesAreRefusedByName) {
  TempGguf file;
  pplug::detail::GgufWriter w;
  w.add_string("tokenizer.ggml.model", "rwkv");
  w.add_strings("tokenizer.ggml.tokens", {"a", "b"});
  const std::string what = load_error(file.write(w));
  EXPECT_NE(what.find(file.path()), std::string::npos) << what;
  EXPECT_NE(what.find("tokenizer.ggml.model"), std::string::npos) << what;
  EXPECT_NE(what.find("\"rwkv\""), std::string::npos) << what;
}

}  // namespace
