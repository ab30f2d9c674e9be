// PersonaPlug's private state, shared by its .cpp files and the trainer.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "format/user_embedding_record.h"  // require_unique_item_ids
#include "plug/plugin_module.h"
#include "pplug/persona_plug.h"

namespace pplug {

struct PersonaPlug::Impl {
  // mutable: inference reads the weights from const methods; only the trainer changes them.
  mutable detail::PluginModule module{nullptr};
  std::shared_ptr<const LanguageModel> lm;  // the frozen LLM, whatever its architecture
  std::unique_ptr<Generator> generator;
  // The ids around every prompt: [BOS] before (decoder-only), </s> after (T5).
  std::vector<int> start_ids, end_ids;
  mutable std::mutex mutex;  // guards `fingerprint` and `instruction_token`
  std::string fingerprint;
  // [I] of the current weights (it does not depend on the input); recomputed with the
  // fingerprint whenever the weights change. Undefined without an instruction token.
  torch::Tensor instruction_token;
  std::vector<int> answer_cue;  // ids of config().answer_prefix, encoded once
  // query_source kPrompt: the history encoder's pooling, applied to the LLM's reading of the
  // prompt; unset for kEncoder.
  std::optional<LlmEncoderOptions::Pooling> prompt_pooling;
  // When set (kPrompt over a decoder-only LLM), generate() and score_candidates() take the fast
  // path below: the prompt's start is read once, for the query and as the prompt (a plug-in
  // always has a soft token, so the tail is never empty).
  bool read_once = false;

  // The LLM inputs of `requests`; also returns each prompt's ids when `prompt_ids_out` is set.
  std::vector<EmbeddedPrompt> embedded_prompts(const PersonaPlug& plug,
                                               const std::vector<UserRequest>& requests,
                                               std::vector<std::vector<int>>* prompt_ids_out) const;

  // Soft tokens of a batch of requests (users padded to the longest history) given their
  // frozen input vectors (B, d_e); the second form computes those with query_vectors().
  detail::SoftTokens soft_tokens_batch(const PersonaPlug& plug,
                                       const std::vector<UserRequest>& requests,
                                       const torch::Tensor& query_vectors) const;
  detail::SoftTokens soft_tokens_batch(const PersonaPlug& plug,
                                       const std::vector<UserRequest>& requests) const;

  // The start ids ([BOS]) + the prompt tokens before the soft tokens (query_source kPrompt reads
  // these), with the full prompt ids in `prompt_out`.
  std::vector<int> prompt_head(const PersonaPlug& plug, const std::string& input,
                               std::vector<int>* prompt_out) const;
  // kPrompt's fast path: each request's head as an EmbeddedPrompt, and the tail that turns the
  // LLM's reading of it into [soft tokens][answer cue]; `requests` must outlive the tail.
  std::pair<std::vector<EmbeddedPrompt>, PromptTail> read_once_prompts(
      const PersonaPlug& plug, const std::vector<UserRequest>& requests,
      std::vector<std::vector<int>>* prompt_ids_out) const;
};

namespace detail {
double embedding_norm_scale(const LanguageModel& model);
}

}  // namespace pplug
