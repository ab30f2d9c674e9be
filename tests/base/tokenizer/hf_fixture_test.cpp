// The real Llama 3 and Qwen3 tokenizer.json files against the ids Hugging Face's tokenizers
// gives (llama.cpp's tokenizer test cases, see ../shared/models/*-tokenizer/README.md).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tokenizer/hf/hf_tokenizer.h"
#include "util/file_io.h"

namespace {

namespace fs = std::filesystem;
using pplug::hf::HfTokenizer;
using Ids = std::vector<int>;

const std::string kModels = PPLUG_SHARED_MODELS;

struct FixtureCase {
  std::string text;
  Ids ids;
};

// Inputs separated by "\n__ggml_vocab_test__\n"; one line of ids per input.
std::vector<FixtureCase> read_cases(const std::string& inp, const std::string& out) {
  const std::string text = pplug::detail::read_file(inp);
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> inputs;
  std::size_t pos = 0;
  for (std::size_t next = text.find(sep); next != std::string::npos; next = text.find(sep, pos)) {
    inputs.push_back(text.substr(pos, next - pos));
    pos = next + sep.size();
  }
  if (pos < text.size()) inputs.push_back(text.substr(pos));
  std::istringstream lines(pplug::detail::read_file(out));
  std::vector<FixtureCase> cases;
  std::string line;
  for (const std::string& input : inputs) {
    if (!std::getline(lines, line)) break;
    FixtureCase c{input, {}};
    std::istringstream words(line);
    for (int id = 0; words >> id;) c.ids.push_back(id);
    cases.push_back(std::move(c));
  }
  EXPECT_EQ(cases.size(), inputs.size()) << out << " has fewer lines than " << inp << " has cases";
  return cases;
}

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
  const auto cases = read_cases(dir() + "/tests.inp", dir() + "/tests.out");
  ASSERT_EQ(cases.size(), 46u);
  EXPECT_EQ(check_cases(*tok_, cases), 46);
}

TEST_F(HfTokenizerQwen3, AllFixtureCasesMatch) {
  const auto cases = read_cases(dir() + "/tests.inp", dir() + "/tests.out");
  ASSERT_EQ(cases.size(), 46u);
  EXPECT_EQ(check_cases(*tok_, cases), 46);
}

}  // namespace
