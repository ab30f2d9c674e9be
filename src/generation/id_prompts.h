// Text and token-id prompts turned into what generation feeds the model: the framed ids of each
// text (framed_prompt.h), and each id list embedded as an EmbeddedPrompt anchored at its last id.
// One place for Generator::generate / generate_ids and GenerationBatch::add_text.
#pragma once

#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "generation/framed_prompt.h"
#include "pplug/error.h"
#include "pplug/language_model.h"

namespace pplug::detail {

inline std::vector<std::vector<int>> framed_prompts(const LanguageModel& model,
                                                    const Tokenizer& tokenizer,
                                                    const std::vector<std::string>& texts) {
  std::vector<std::vector<int>> ids;
  ids.reserve(texts.size());
  for (const auto& t : texts) ids.push_back(framed_prompt(model, tokenizer, tokenizer.encode(t)));
  return ids;
}

// Throws InvalidArgument for an empty id list. Call under InferenceMode.
inline std::vector<EmbeddedPrompt> embedded_id_prompts(
    const LanguageModel& model, const std::vector<std::vector<int>>& prompts) {
  std::vector<EmbeddedPrompt> embedded;
  embedded.reserve(prompts.size());
  for (const auto& ids : prompts) {
    if (ids.empty()) throw InvalidArgument("generate: empty prompt (no token ids)");
    auto t = at::tensor(std::vector<int64_t>(ids.begin(), ids.end()), at::kLong);
    embedded.push_back({model.embed(t.unsqueeze(0)).squeeze(0), ids.back()});
  }
  return embedded;
}

}  // namespace pplug::detail
