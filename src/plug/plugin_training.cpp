#include "plug/plugin_training.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/nn/module.h>

#include <algorithm>
#include <mutex>
#include <set>

#include "models/tensor_checks.h"
#include "models/tensor_fingerprint.h"
#include "plug/plugin_impl.h"
#include "pplug/error.h"
#include "pplug/safetensors.h"

namespace pplug::detail {

PluginModuleImpl& PluginTraining::module(PersonaPlug& plug) { return *plug.impl_->module; }

const PluginModuleImpl& PluginTraining::module(const PersonaPlug& plug) {
  return *plug.impl_->module;
}

void PluginTraining::refresh_fingerprint(PersonaPlug& plug) {
  auto& impl = *plug.impl_;
  std::vector<std::pair<std::string, torch::Tensor>> named;
  for (const auto& p : impl.module->named_parameters()) named.emplace_back(p.key(), p.value());
  const std::string fp = "plugin-" + fingerprint_tensors(named, plug.encoder_->fingerprint());
  torch::Tensor instruction;
  if (plug.config_.use_instruction) {
    c10::InferenceMode guard;
    instruction = impl.module->instruction_token().contiguous();
  }
  std::lock_guard<std::mutex> lock(impl.mutex);
  impl.fingerprint = fp;
  impl.instruction_token = instruction;
}

int64_t PluginTraining::soft_token_offset(const PersonaPlug& plug, size_t prompt_length) {
  const auto start = static_cast<int64_t>(plug.impl_->start_ids.size());
  if (plug.config_.placement == SoftTokenPlacement::kAfterBos) return start;
  const auto cue = static_cast<int64_t>(plug.impl_->answer_cue.size());
  return start + std::max<int64_t>(0, static_cast<int64_t>(prompt_length) - cue);
}

torch::Tensor PluginTraining::build_prefix(const PersonaPlug& plug, const torch::Tensor& soft,
                                           const std::vector<int>& prompt) {
  const auto& impl = *plug.impl_;
  std::vector<int64_t> ids(impl.start_ids.begin(), impl.start_ids.end());
  ids.insert(ids.end(), prompt.begin(), prompt.end());
  ids.insert(ids.end(), impl.end_ids.begin(), impl.end_ids.end());
  auto embeds = impl.lm->embed(at::tensor(ids, at::kLong));  // (start + T + end, d)
  const int64_t split = soft_token_offset(plug, prompt.size());
  return at::cat({embeds.narrow(0, 0, split), soft.to(embeds.scalar_type()),
                  embeds.narrow(0, split, static_cast<int64_t>(ids.size()) - split)},
                 0);
}

void PluginTraining::load_weights(PersonaPlug& plug, const std::string& weights_path) {
  SafetensorsFile weights(weights_path);
  std::set<std::string> expected;
  {
    torch::NoGradGuard no_grad;
    for (auto& p : plug.impl_->module->named_parameters()) {
      expected.insert(p.key());
      if (!weights.contains(p.key())) {
        throw FormatError(weights_path + ": missing tensor '" + p.key() + "'");
      }
      const std::string& dtype = weights.info(p.key()).dtype;
      if (dtype != "F32" && dtype != "F16" && dtype != "BF16") {
        throw FormatError(weights_path + ": tensor '" + p.key() + "' has dtype " + dtype +
                          ", expected F32 (or F16, BF16)");
      }
      const auto value = weights.get(p.key(), torch::kFloat32, p.value().sizes().vec());
      require_finite(value, weights_path, p.key());
      p.value().copy_(value);
    }
  }
  for (const auto& name : weights.names()) {
    if (expected.count(name) == 0) {
      throw FormatError(weights_path + ": unexpected tensor '" + name + "'");
    }
  }
  refresh_fingerprint(plug);
}

}  // namespace pplug::detail
