// SentencePiece through the dlopen'ed shim, in the same process as libtorch (this binary links
// both, which is exactly the combination that crashes when sentencepiece is linked directly).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "pplug/error.h"
#include "pplug/tokenizer.h"
#include "support/test_models.h"

namespace pplug {
namespace {

TEST(Tokenizer, Tok512EncodesTheReferencePrompt) {
  PPLUG_REQUIRE_SHARED(path, "stories260K/tok512.model");
  Tokenizer tok(path);
  EXPECT_EQ(tok.vocab_size(), 512);
  EXPECT_EQ(tok.bos_id(), 1);
  EXPECT_EQ(tok.eos_id(), 2);
  EXPECT_EQ(tok.encode("Once upon a time"), (std::vector<int>{403, 407, 261, 378}));
  EXPECT_EQ(tok.encode("Once upon a time", true), (std::vector<int>{1, 403, 407, 261, 378}));
  EXPECT_EQ(tok.encode("x", true, true).back(), 2);
  // libtorch is alive in this process too.
  EXPECT_EQ(at::ones({2}).sum().item<float>(), 2.0f);
}

TEST(Tokenizer, Llama2TokenizerMatchesSpmEncode) {
  PPLUG_REQUIRE_SHARED(path, "llama2-tokenizer/tokenizer.model");
  Tokenizer tok(path);
  EXPECT_EQ(tok.vocab_size(), 32000);
  EXPECT_EQ(tok.encode("Hello world, I love my dog."),
            (std::vector<int>{15043, 3186, 29892, 306, 5360, 590, 11203, 29889}));
}

TEST(Tokenizer, ByteFallbackAndNewlinesRoundTrip) {
  PPLUG_REQUIRE_SHARED(path, "stories260K/tok512.model");
  Tokenizer tok(path);
  const std::string text = "Hi!\nA dog 🐶 and ümlauts\n\n spaced";
  const auto ids = tok.encode(text);
  EXPECT_EQ(tok.decode(ids), text);
  // tok512's normalizer collapses runs of spaces, as the model's own tokenizer does.
  EXPECT_EQ(tok.encode("a  b"), tok.encode("a b"));
  const int newline = tok.piece_to_id("<0x0A>");
  EXPECT_TRUE(tok.is_byte(newline));
  EXPECT_NE(std::find(ids.begin(), ids.end(), newline), ids.end());
  EXPECT_TRUE(tok.is_control(tok.bos_id()));
  EXPECT_EQ(tok.id_to_piece(403).substr(0, 3), "\xE2\x96\x81");  // "▁" word-start marker
}

TEST(Tokenizer, NfkcModelNormalizes) {
  PPLUG_REQUIRE_SHARED(path, "sentencepiece-test/test_model.model");
  Tokenizer tok(path);
  EXPECT_EQ(tok.vocab_size(), 1000);
  // NFKC folds full-width letters to ASCII.
  EXPECT_EQ(tok.encode("\xEF\xBC\xA1\xEF\xBC\xA2\xEF\xBC\xA3"), tok.encode("ABC"));
}

TEST(Tokenizer, BadInputsAreClearErrors) {
  EXPECT_THROW(Tokenizer("/nonexistent/tok.model"), FormatError);
  const std::string dir = testing::temp_dir("tok");
  { std::ofstream(dir + "/junk.model") << "this is not a protobuf"; }
  try {
    Tokenizer junk(dir + "/junk.model");
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("junk.model"), std::string::npos);
  }
  PPLUG_REQUIRE_SHARED(path, "stories260K/tok512.model");
  Tokenizer tok(path);
  EXPECT_THROW(tok.decode({1, 9999}), InvalidArgument);
  EXPECT_THROW(tok.id_to_piece(-1), InvalidArgument);
}

}  // namespace
}  // namespace pplug
