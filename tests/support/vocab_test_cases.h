// llama.cpp's tokenizer test files, and the HF ids files beside ../shared/models' tokenizers:
// X.inp holds the inputs separated by "\n__ggml_vocab_test__\n", X.out one line of ids per
// input. Libtorch-free (the base suite reads them too).
#pragma once

#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "util/file_io.h"

namespace pplug::testing {

struct VocabTestCase {
  std::string text;
  std::vector<int> ids;
};

// The inputs of `inp` (text after the last separator included when not empty).
inline std::vector<std::string> read_vocab_test_inputs(const std::string& inp) {
  const std::string text = detail::read_file(inp);
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> inputs;
  std::size_t pos = 0;
  for (std::size_t next = text.find(sep); next != std::string::npos; next = text.find(sep, pos)) {
    inputs.push_back(text.substr(pos, next - pos));
    pos = next + sep.size();
  }
  if (pos < text.size()) inputs.push_back(text.substr(pos));
  return inputs;
}

// Each input of `inp` with its ids from `out`; stops at the shorter of the two.
inline std::vector<VocabTestCase> read_vocab_test_cases(const std::string& inp,
                                                        const std::string& out) {
  std::istringstream lines(detail::read_file(out));
  std::vector<VocabTestCase> cases;
  std::string line;
  for (std::string& input : read_vocab_test_inputs(inp)) {
    if (!std::getline(lines, line)) break;
    VocabTestCase c{std::move(input), {}};
    std::istringstream words(line);
    for (int id = 0; words >> id;) c.ids.push_back(id);
    cases.push_back(std::move(c));
  }
  return cases;
}

}  // namespace pplug::testing
