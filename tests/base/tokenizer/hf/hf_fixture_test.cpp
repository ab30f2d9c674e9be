// The real Llama 3 and Qwen3 tokenizer.json files against the ids Hugging Face's tokenizers
// gives (llama.cpp's tokenizer test cases, see ../shared/models/*-tokenizer/README.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "pplug/error.h"
#include "support/vocab_test_cases.h"
#include "tokenizer/hf/hf_tokenizer.h"
#include "util/file_io.h"

namespace {

namespace fs = std::filesystem;
using pplug::hf::HfTokenizer;
using Ids = std::vector<int>;

const std::string kModels = PPLUG_SHARED_MODELS;

using FixtureCase = pplug::testing::VocabTestCase;
using pplug::testing::read_vocab_test_cases;

// Counts matching cases and reports each mismatch.
int check_cases(const HfTokenizer& tok, const std::vector<FixtureCase>& cases) {
  int matched = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Ids got = tok.encode(cases[i].text);
    if (got == cases[i].ids) {
      ++matched;
    } else {
      ADD_FAILURE() << "case " << i << " \"" << cases[i].text << "\": got "
                    << ::testing::PrintToString(got) << ", want "
                    << ::testing::PrintToString(cases[i].ids);
    }
  }
  return matched;
}

class HfTokenizerLlama3 : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (fs::exists(dir())) tok_ = std::make_unique<HfTokenizer>(HfTokenizer::load(dir()));
  }
  static void TearDownTestSuite() { tok_.reset(); }
  void SetUp() override {
    if (!tok_) GTEST_SKIP() << "missing " << dir();
  }
  static std::string dir() { return kModels + "/llama3-tokenizer"; }
  static std::unique_ptr<HfTokenizer> tok_;
};
std::unique_ptr<HfTokenizer> HfTokenizerLlama3::tok_;

class HfTokenizerQwen3 : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (fs::exists(dir())) tok_ = std::make_unique<HfTokenizer>(HfTokenizer::load(dir()));
  }
  static void TearDownTestSuite() { tok_.reset(); }
  void SetUp() override {
    if (!tok_) GTEST_SKIP() << "missing " << dir();
  }
  static std::string dir() { return kModels + "/qwen3-tokenizer"; }
  static std::unique_ptr<HfTokenizer> tok_;
};
std::unique_ptr<HfTokenizer> HfTokenizerQwen3::tok_;

TEST_F(HfTokenizerLlama3, AllFixtureCasesMatch) {
  const auto cases = read_vocab_test_cases(dir() + "/tests.inp", dir() + "/tests.out");
  ASSERT_EQ(cases.size(), 46u);
  EXPECT_EQ(check_cases(*tok_, cases), 46);
}

TEST_F(HfTokenizerQwen3, AllFixtureCasesMatch) {
  const auto cases = read_vocab_test_cases(dir() + "/tests.inp", dir() + "/tests.out");
  ASSERT_EQ(cases.size(), 46u);
  EXPECT_EQ(check_cases(*tok_, cases), 46);
}

// Decoding gives back every input byte for byte (the ByteLevel decoder is exact).
void check_round_trips(const HfTokenizer& tok, const std::vector<FixtureCase>& cases) {
  for (const FixtureCase& c : cases) EXPECT_EQ(tok.decode(tok.encode(c.text)), c.text);
}

TEST_F(HfTokenizerLlama3, ReadmeExamplesAndIds) {
  EXPECT_EQ(tok_->encode("Hello world"), (Ids{9906, 1917}));
  EXPECT_EQ(tok_->encode(" Hello world"), (Ids{22691, 1917}));
  EXPECT_EQ(tok_->encode("1234567"), (Ids{4513, 10961, 22}));
  EXPECT_EQ(tok_->encode("I'm here."), (Ids{40, 2846, 1618, 13}));
  EXPECT_EQ(tok_->vocab_size(), 128256);
  EXPECT_EQ(tok_->bos_id(), 128000);
  EXPECT_EQ(tok_->eos_id(), 128001);
  EXPECT_EQ(tok_->unk_id(), -1);
  EXPECT_EQ(tok_->pad_id(), -1);
  EXPECT_FALSE(tok_->adds_bos_by_default());  // post_processor is ByteLevel only
  EXPECT_EQ(tok_->encode("Hello world", true, true), (Ids{128000, 9906, 1917, 128001}));
  EXPECT_EQ(tok_->id_to_piece(22691), "\xC4\xA0Hello");  // "ĠHello"
  EXPECT_EQ(tok_->piece_to_id("<|eot_id|>"), 128009);
  EXPECT_TRUE(tok_->is_special(128009));
  EXPECT_FALSE(tok_->is_special(9906));
  EXPECT_THROW(tok_->id_to_piece(128256), pplug::InvalidArgument);
  EXPECT_THROW(tok_->decode({-1}), pplug::InvalidArgument);
}

TEST_F(HfTokenizerLlama3, SpecialTokensInTextAreSingleIds) {
  const Ids hello = tok_->encode("Hello");
  Ids want{128000, 128006};
  want.insert(want.end(), hello.begin(), hello.end());
  want.push_back(128007);
  EXPECT_EQ(tok_->encode("<|begin_of_text|><|start_header_id|>Hello<|end_header_id|>"), want);
  // Decoding skips special tokens unless asked.
  EXPECT_EQ(tok_->decode(want), "Hello");
  EXPECT_EQ(tok_->decode(want, false),
            "<|begin_of_text|><|start_header_id|>Hello<|end_header_id|>");
  // A partial special token is ordinary text.
  EXPECT_EQ(tok_->decode(tok_->encode("<|begin_of_text")), "<|begin_of_text");
}

TEST_F(HfTokenizerLlama3, RoundTrips) {
  check_round_trips(*tok_, read_vocab_test_cases(dir() + "/tests.inp", dir() + "/tests.out"));
  const std::string mixed = "caf\xC3\xA9 \xF0\x9F\x98\x80 \xE4\xB8\xAD\xE6\x96\x87\r\n\t  x";
  EXPECT_EQ(tok_->decode(tok_->encode(mixed)), mixed);
  // Invalid UTF-8 is read as U+FFFD.
  EXPECT_EQ(tok_->decode(tok_->encode("a\xFF"
                                      "b")),
            "a\xEF\xBF\xBD"
            "b");
}

// A 1 MB input of mixed text, and single huge pre-tokens, in reasonable time; the result does
// not depend on the thread.
TEST_F(HfTokenizerLlama3, LargeInputsAndThreads) {
  std::string text;
  const auto cases = read_vocab_test_cases(dir() + "/tests.inp", dir() + "/tests.out");
  for (std::size_t i = 0; text.size() < (1u << 20); ++i) {
    text += cases[i % cases.size()].text + " " + std::to_string(i) + "\n";
  }
  const auto t0 = std::chrono::steady_clock::now();
  const Ids ids = tok_->encode(text);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(seconds, 5.0);
  EXPECT_EQ(tok_->decode(ids), text);
  std::cout << "[ info     ] 1 MB mixed text: " << ids.size() << " ids in " << seconds << " s\n";

  for (const std::string& huge :
       {std::string(1u << 20, 'a'), std::string(1u << 20, ' '), std::string(1u << 20, '\n'),
        std::string(1u << 20, '!'), std::string(1u << 20, '7')}) {
    const auto t1 = std::chrono::steady_clock::now();
    const Ids huge_ids = tok_->encode(huge);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    EXPECT_LT(s, 5.0) << "run of '" << huge[0] << "'";
    std::cout << "[ info     ] 1 MB run of byte " << int(huge[0]) << ": " << huge_ids.size()
              << " ids in " << s << " s\n";
    EXPECT_EQ(tok_->decode(huge_ids), huge);
  }

  std::vector<Ids> results(2);
  std::vector<std::thread> threads;
  for (auto& r : results) threads.emplace_back([&] { r = tok_->encode(text.substr(0, 200000)); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(results[0], results[1]);
  EXPECT_EQ(results[0], tok_->encode(text.substr(0, 200000)));
}

TEST_F(HfTokenizerQwen3, ReadmeExamplesAndIds) {
  EXPECT_EQ(tok_->encode("Hello world"), (Ids{9707, 1879}));
  EXPECT_EQ(tok_->encode(" Hello world"), (Ids{21927, 1879}));
  EXPECT_EQ(tok_->encode("1234567"), (Ids{16, 17, 18, 19, 20, 21, 22}));
  EXPECT_EQ(tok_->encode("cafe\xCC\x81"), (Ids{924, 58858}));  // NFC first
  EXPECT_EQ(tok_->encode("caf\xC3\xA9"), (Ids{924, 58858}));
  EXPECT_EQ(tok_->vocab_size(), 151669);
  EXPECT_EQ(tok_->bos_id(), -1);
  EXPECT_EQ(tok_->eos_id(), 151645);
  EXPECT_EQ(tok_->pad_id(), 151643);
  EXPECT_EQ(tok_->encode("Hi", true, false), tok_->encode("Hi"));  // no BOS to add
}

TEST_F(HfTokenizerQwen3, AddedTokensSpecialOrNot) {
  const Ids ids = tok_->encode("<|im_start|>user\n<think>x</think><|im_end|>");
  ASSERT_GE(ids.size(), 5u);
  EXPECT_EQ(ids.front(), 151644);
  EXPECT_EQ(ids.back(), 151645);
  EXPECT_NE(std::find(ids.begin(), ids.end(), 151667), ids.end());
  EXPECT_NE(std::find(ids.begin(), ids.end(), 151668), ids.end());
  EXPECT_FALSE(tok_->is_special(151667));
  EXPECT_TRUE(tok_->is_special(151644));
  // Non-special added tokens keep their text when decoding; special ones are skipped.
  EXPECT_EQ(tok_->decode(ids), "user\n<think>x</think>");
}

TEST_F(HfTokenizerQwen3, RoundTrips) {
  check_round_trips(*tok_, read_vocab_test_cases(dir() + "/tests.inp", dir() + "/tests.out"));
}

}  // namespace
