// One training micro-batch's loss, run over only what the plug-in can change.
//
// Over an encoder-decoder LLM (T5) every row is the encoder input [soft][prompt][</s>] and the
// loss is the LanguageModel's teacher-forced cross-entropy of the target. Over a decoder-only LLM
// the frozen prompt start is not run again:
//
// A training row is [BOS][prompt start][soft tokens][prompt rest][target]. The frozen LLM is
// causal, so nothing in "[BOS][prompt start]" depends on the plug-in: its keys and values are
// computed without autograd (once for the whole run when they fit in the memory budget, else
// once per micro-batch), and the differentiable forward and the backward run over the soft
// tokens, the prompt rest and the target only. With the soft tokens just before the answer cue
// that is a few tokens instead of the whole prompt.
#pragma once

#include <torch/types.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "plug/plugin_module.h"
#include "pplug/llama_model.h"
#include "pplug/persona_plug.h"
#include "train/train_data.h"

namespace pplug::detail {

class FrozenPrefixes {
 public:
  // Keeps every question's prefix keys and values when they fit in `budget_bytes` (0 = never:
  // each micro-batch recomputes its own). Holds nothing over an encoder-decoder LLM.
  FrozenPrefixes(const PersonaPlug& plug, const TrainData& data, size_t budget_bytes);

  // Tokens of `ex`'s prompt before its soft tokens: [BOS] + the prompt's start.
  int64_t length(const TrainExample& ex) const;
  // Of those, the tokens of the prompt itself (without [BOS]).
  int64_t prompt_tokens(const TrainExample& ex) const { return length(ex) - start_; }
  // A cache holding the batch's prefixes (left-padded), with room for `extra` positions.
  KVCache batch_cache(const std::vector<const TrainExample*>& batch, int64_t extra) const;
  bool stored() const { return !stored_.empty(); }
  // The bytes all prefixes take (stored or not).
  size_t bytes() const { return bytes_; }

 private:
  std::vector<int64_t> prefix_ids(const TrainExample& ex) const;
  // Runs the prefixes of `batch` through the frozen LLM into a fresh cache (no autograd).
  KVCache run(const std::vector<const TrainExample*>& batch, int64_t extra) const;

  const PersonaPlug& plug_;
  std::vector<int> start_ids_;  // [BOS], or nothing for a tokenizer without one
  int64_t start_ = 0;           // start_ids_.size()
  size_t bytes_ = 0;
  std::vector<CachedPrefix> stored_;  // per question (TrainExample::query)
};

// The soft tokens of each example (B, S, d): the plug-in's only differentiable output.
torch::Tensor soft_tokens(PluginModuleImpl& module, const TrainData& data,
                          const std::vector<const TrainExample*>& batch);

// The cross-entropy summed over the target tokens of `batch`, divided by `target_tokens`: the
// target tokens of the whole global micro-batch when `batch` is one rank's part of it (so that
// the ranks' gradients add up to the one-process gradient), 0 = those of `batch` (its mean).
torch::Tensor batch_loss(const PersonaPlug& plug, PluginModuleImpl& module, const TrainData& data,
                         const FrozenPrefixes& prefixes,
                         const std::vector<const TrainExample*>& batch, int64_t target_tokens = 0);

}  // namespace pplug::detail
