// A prompt's token ids framed as the model reads a prompt: [BOS] text for a decoder-only model,
// text </s> for T5 (LanguageModel::prompt_start_ids / prompt_end_ids). One place for the
// generator, the evaluator's baselines, the plug-in and the LLM-as-encoder.
#pragma once

#include <vector>

#include "pplug/language_model.h"
#include "pplug/tokenizer.h"

namespace pplug::detail {

inline std::vector<int> framed_prompt(const LanguageModel& model, const Tokenizer& tokenizer,
                                      const std::vector<int>& text) {
  std::vector<int> ids = model.prompt_start_ids(tokenizer);
  ids.insert(ids.end(), text.begin(), text.end());
  const auto end = model.prompt_end_ids(tokenizer);
  ids.insert(ids.end(), end.begin(), end.end());
  return ids;
}

}  // namespace pplug::detail
