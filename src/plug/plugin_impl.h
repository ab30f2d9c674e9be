// PersonaPlug's private state, shared by its .cpp files and the trainer.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "plug/plugin_module.h"
#include "pplug/persona_plug.h"

namespace pplug {

struct PersonaPlug::Impl {
  // mutable: inference reads the weights from const methods; only the trainer changes them.
  mutable detail::PluginModule module{nullptr};
  std::unique_ptr<Generator> generator;
  mutable std::mutex mutex;  // guards `fingerprint`
  std::string fingerprint;
  std::vector<int> answer_cue;  // ids of config().answer_prefix, encoded once

  // The LLM inputs of `requests`; also returns each prompt's ids when `prompt_ids_out` is set.
  std::vector<EmbeddedPrompt> embedded_prompts(const PersonaPlug& plug,
                                               const std::vector<UserRequest>& requests,
                                               std::vector<std::vector<int>>* prompt_ids_out) const;

  // Soft tokens of a batch of requests (users padded to the longest history).
  detail::SoftTokens soft_tokens_batch(const PersonaPlug& plug,
                                       const std::vector<UserRequest>& requests) const;
};

namespace detail {
double embedding_norm_scale(const LlamaModel& model);
}

}  // namespace pplug
