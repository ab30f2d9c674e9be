// The trainable part of Persona-Plug as a torch::nn::Module. Parameter names are the keys of
// plugin.safetensors, so saving and loading are name lookups.
//
//   persona_proj.fc1/fc2      Proj: Linear(d_e, d) -> GELU -> Linear(d, n_p d), per history item
//   instruction               I: (d_e) task-level vector
//   instruction_proj.fc1/fc2  its own projector: Linear(d_e, d) -> GELU -> Linear(d, d)
//   input_adapter             residual Linear(d_e, d_e) on the frozen input vector (zero init)
//   log_temperature           log T (trained only with the learned-temperature aggregator)
//   log_gain                  per soft-token-kind log multiplier of the norm (starts at 0: the
//                             LLM's mean embedding norm), so training can make a token louder
//   input_encoder.*           the trainable BERT copy (PluginConfig::input_encoder kCopy), under
//                             its HF keys
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "pplug/plugin_config.h"
#include "pplug/text_encoder.h"

namespace pplug::detail {

class TwoLayerMlpImpl : public torch::nn::Module {
 public:
  TwoLayerMlpImpl(int64_t in, int64_t hidden, int64_t out);
  torch::Tensor forward(const torch::Tensor& x);  // (..., in) -> (..., out)

  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(TwoLayerMlp);

struct SoftTokens {
  torch::Tensor tokens;   // (B, n_soft, d): [I] then [P_1..P_np], as enabled
  torch::Tensor weights;  // (B, N) aggregation weights over history items (undefined w/o persona)
};

class PluginModuleImpl : public torch::nn::Module {
 public:
  // `scale`: the norm every soft token is given (the LLM's mean token-embedding norm).
  PluginModuleImpl(const PluginConfig& config, double scale);

  int64_t num_soft_tokens() const;
  // Projections of history vectors: (..., d_e) -> (..., n_p d). Cached per user at inference.
  torch::Tensor project_items(const torch::Tensor& items);
  // The input vector after the trainable adapter, unit norm: (B, d_e) -> (B, d_e).
  torch::Tensor adapt_query(const torch::Tensor& query);
  // keys (B, N, d_e) unit rows, what the input is compared with (the item vectors, or the
  // items' own keys: ItemVectors); projections (B, N, n_p d) = project_items(item vectors);
  // mask (B, N) bool, true = real item; query (B, d_e) frozen input vectors.
  // `instruction_token` (d), when defined, is used as [I] instead of computing it (inference
  // caches instruction_token(): it does not depend on the input).
  SoftTokens forward(const torch::Tensor& keys, const torch::Tensor& projections,
                     const torch::Tensor& mask, const torch::Tensor& query,
                     const torch::Tensor& instruction_token = {});
  // [I], scaled: (d).
  torch::Tensor instruction_token();

  const PluginConfig& config() const { return config_; }
  double scale() const { return scale_; }

  // Registers `copy` as the trainable input encoder (its parameters require grad).
  void attach_input_encoder(std::shared_ptr<BertEncoder> copy);
  const std::shared_ptr<BertEncoder>& input_encoder_copy() const { return input_encoder_; }
  // Switches training mode on or off, except the input-encoder copy, which stays in eval mode:
  // its dropout would draw from an RNG that resumable checkpoints do not save.
  void train(bool on = true) override;

  TwoLayerMlp persona_proj{nullptr}, instruction_proj{nullptr};
  torch::nn::Linear input_adapter{nullptr};
  torch::Tensor instruction, log_temperature, log_gain;

 private:
  // Rows scaled to norm scale_ * exp(log_gain[kind]) (kind 0: instruction, 1: persona).
  torch::Tensor normalize_tokens(const torch::Tensor& x, int kind) const;
  PluginConfig config_;
  double scale_;
  std::shared_ptr<BertEncoder> input_encoder_;
};
TORCH_MODULE(PluginModule);

}  // namespace pplug::detail
