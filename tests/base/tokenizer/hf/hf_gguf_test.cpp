// GGUF vocabularies of model type gpt2 (llama.cpp's vocab-only files) against the ids Hugging
// Face's tokenizers gives (llama.cpp's test cases, see ../shared/models/gguf-vocab/README.md).
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "format/gguf_metadata.h"
#include "pplug/error.h"
#include "support/vocab_test_cases.h"
#include "tokenizer/hf/hf_tokenizer.h"
#include "util/file_io.h"

namespace {

namespace fs = std::filesystem;
using pplug::hf::HfTokenizer;
using Ids = std::vector<int>;

const std::string kDir = PPLUG_SHARED_MODELS "/gguf-vocab";

using Case = pplug::testing::VocabTestCase;

std::vector<Case> read_cases(const std::string& base) {
  return pplug::testing::read_vocab_test_cases(base + ".inp", base + ".out");
}

class HfTokenizerGguf : public ::testing::TestWithParam<const char*> {};

TEST_P(HfTokenizerGguf, FixtureCasesMatch) {
  const std::string base = kDir + "/ggml-vocab-" + GetParam() + ".gguf";
  if (!fs::exists(base)) GTEST_SKIP() << "missing " << base;
  const HfTokenizer tok = HfTokenizer::load(base);
  const std::vector<Case> cases = read_cases(base);
  ASSERT_EQ(cases.size(), 46u);
  int matched = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Ids got = tok.encode(cases[i].text);
    if (got == cases[i].ids) {
      ++matched;
      EXPECT_EQ(tok.decode(got), cases[i].text) << "case " << i;
    } else {
      ADD_FAILURE() << GetParam() << " case " << i << " \"" << cases[i].text << "\": got "
                    << ::testing::PrintToString(got) << ", want "
                    << ::testing::PrintToString(cases[i].ids);
    }
  }
  std::cout << "[ info     ] " << GetParam() << ": " << matched << "/" << cases.size()
            << " cases match\n";
}

INSTANTIATE_TEST_SUITE_P(Gpt2Vocabularies, HfTokenizerGguf,
                         ::testing::Values("gpt-2", "starcoder", "falcon", "deepseek-coder",
                                           "deepseek-llm", "mpt", "refact"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) c = c == '-' ? '_' : c;
                           return name;
                         });

TEST(HfTokenizerGgufFile, MetadataAndIds) {
  const std::string path = kDir + "/ggml-vocab-gpt-2.gguf";
  if (!fs::exists(path)) GTEST_SKIP() << "missing " << path;
  const auto meta = pplug::detail::read_gguf_metadata(path);
  EXPECT_EQ(meta.version, 3u);
  EXPECT_EQ(meta.tensor_count, 0u);
  ASSERT_NE(meta.find("tokenizer.ggml.tokens"), nullptr);
  EXPECT_EQ(meta.find("tokenizer.ggml.tokens")->texts.size(), 50257u);
  const HfTokenizer tok = HfTokenizer::load(path);
  EXPECT_EQ(tok.vocab_size(), 50257);
  EXPECT_EQ(tok.piece_to_id("<|endoftext|>"), 50256);
  EXPECT_EQ(tok.encode("Hello world"), (Ids{15496, 995}));
}

TEST(HfTokenizerGgufFile, UnsupportedModelTypesSayWhy) {
  const std::string path = kDir + "/ggml-vocab-llama-spm.gguf";
  if (!fs::exists(path)) GTEST_SKIP() << "missing " << path;
  try {
    HfTokenizer::load(path);
    ADD_FAILURE() << "no error";
  } catch (const pplug::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer.ggml.model"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("\"llama\""), std::string::npos) << e.what();
  }
}

// Truncated and corrupted copies fail with an error naming the file and the offset.
TEST(HfTokenizerGgufFile, HostileFiles) {
  const fs::path tmp = fs::temp_directory_path() / "pplug_gguf_hostile.gguf";
  const auto write = [&](const std::string& bytes) {
    std::ofstream(tmp, std::ios::binary) << bytes;
    return tmp.string();
  };
  const auto expect_error = [&](const std::string& bytes, const std::string& part) {
    try {
      pplug::detail::read_gguf_metadata(write(bytes));
      ADD_FAILURE() << "no error";
    } catch (const pplug::FormatError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(tmp.string()), std::string::npos) << what;
      EXPECT_NE(what.find("offset"), std::string::npos) << what;
      EXPECT_NE(what.find(part), std::string::npos) << what;
    }
  };
  expect_error("GGUX", "bad magic");
  std::string header("GGUF\x03\0\0\0", 8);
  header += std::string(8, '\0');                  // tensors
  header += std::string("\x01\0\0\0\0\0\0\0", 8);  // one key
  expect_error(header, "truncated");
  std::string key = header + std::string("\x03\0\0\0\0\0\0\0", 8) + "abc";
  expect_error(key + std::string("\x63\0\0\0", 4), "unknown value type 99");
  // An array claiming 2^60 strings.
  expect_error(key + std::string("\x09\0\0\0\x08\0\0\0", 8) + std::string("\0\0\0\0\0\0\0\x10", 8),
               "exceeds the file");
  // A uint64 value past INT64_MAX (it would read back negative).
  expect_error(
      key + std::string("\x0a\0\0\0", 4) + std::string("\xff\xff\xff\xff\xff\xff\xff\xff", 8),
      "exceeds the signed 64-bit range");
  // A tensor count no file of this size can hold.
  std::string many("GGUF\x03\0\0\0", 8);
  many += std::string("\0\0\0\0\0\0\0\x01", 8);  // 2^56 tensors
  many += std::string(8, '\0');                  // no keys
  expect_error(many, "tensor count");
  // A string longer than the file.
  expect_error(key + std::string("\x08\0\0\0", 4) + std::string("\xff\xff\0\0\0\0\0\0", 8),
               "exceeds the file");
  const std::string real = kDir + "/ggml-vocab-gpt-2.gguf";
  if (fs::exists(real)) {
    const std::string bytes = pplug::detail::read_file(real);
    for (std::size_t n : {std::size_t{100}, bytes.size() / 2, bytes.size() - 1}) {
      EXPECT_THROW(pplug::detail::read_gguf_metadata(write(bytes.substr(0, n))), pplug::FormatError)
          << n;
    }
  }
  fs::remove(tmp);
}

}  // namespace
