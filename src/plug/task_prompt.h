// Prompt pieces shared by the plug-in, the evaluator and the `prompt` verb, so every method
// feeds the LLM the same tokens for the same input.
#pragma once

#include <string>
#include <vector>

#include "pplug/lamp_prompt.h"
#include "pplug/tokenizer.h"

namespace pplug::detail {

// The task input's ids, keeping the last `max_input_tokens` (LaMP templates put the content at
// the end), followed by the answer cue's ids (encoded on its own, the same for every input).
inline std::vector<int> task_prompt_ids(const Tokenizer& tokenizer, const std::string& input,
                                        int max_input_tokens, const std::vector<int>& cue) {
  std::vector<int> ids = tokenizer.encode(input);
  if (static_cast<int>(ids.size()) > max_input_tokens) {
    ids.erase(ids.begin(), ids.end() - max_input_tokens);
  }
  ids.insert(ids.end(), cue.begin(), cue.end());
  return ids;
}

// The LLM's tokenizer as a LaMP TokenCounter (no BOS/EOS: budgets count text tokens).
class SentencePieceCounter final : public lamp::TokenCounter {
 public:
  explicit SentencePieceCounter(const Tokenizer& tokenizer) : tokenizer_(tokenizer) {}
  std::vector<int> encode(const std::string& text) const override {
    return tokenizer_.encode(text);
  }
  std::string decode(const std::vector<int>& ids) const override { return tokenizer_.decode(ids); }

 private:
  const Tokenizer& tokenizer_;
};

}  // namespace pplug::detail
