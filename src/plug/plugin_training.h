// What the trainer (and the tests and benches that look inside a plug-in) may do to a
// PersonaPlug beyond its public API: reach the trainable module, refresh the fingerprint after
// the weights changed, build the LLM inputs around soft tokens, load saved weights. Kept out of
// include/pplug so an application sees only what it calls.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "plug/plugin_module.h"
#include "pplug/persona_plug.h"

namespace pplug::detail {

struct PluginTraining {
  static PluginModuleImpl& module(PersonaPlug& plug);
  static const PluginModuleImpl& module(const PersonaPlug& plug);
  // Recomputes plug.fingerprint() (and the cached instruction token) after the weights changed.
  static void refresh_fingerprint(PersonaPlug& plug);
  // Index in [BOS] + prompt before which the soft tokens go (config().placement).
  static int64_t soft_token_offset(const PersonaPlug& plug, size_t prompt_length);
  // The LLM input embeddings (T, d) in the LLM's compute dtype: [BOS][soft][prompt] (T5:
  // [soft][prompt][</s>]), or with the soft tokens just before the answer cue.
  static torch::Tensor build_prefix(const PersonaPlug& plug, const torch::Tensor& soft_tokens,
                                    const std::vector<int>& prompt);
  // Loads plugin.safetensors-format weights into the module: every parameter present, float
  // dtype, right shape, finite; no unexpected tensor. Refreshes the fingerprint. FormatError
  // naming the file and tensor otherwise.
  static void load_weights(PersonaPlug& plug, const std::string& weights_path);
};

}  // namespace pplug::detail
