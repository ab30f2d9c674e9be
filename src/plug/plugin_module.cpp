#include "plug/plugin_module.h"

#include <ATen/ATen.h>
#include <torch/nn/init.h>

#include <cmath>

#include "pplug/error.h"

namespace pplug::detail {

TwoLayerMlpImpl::TwoLayerMlpImpl(int64_t in, int64_t hidden, int64_t out) {
  fc1 = register_module("fc1", torch::nn::Linear(in, hidden));
  fc2 = register_module("fc2", torch::nn::Linear(hidden, out));
}

torch::Tensor TwoLayerMlpImpl::forward(const torch::Tensor& x) {
  return fc2->forward(at::gelu(fc1->forward(x)));
}

PluginModuleImpl::PluginModuleImpl(const PluginConfig& config, double scale)
    : config_(config), scale_(scale) {
  const int64_t de = config.encoder_dim, d = config.llm_dim;
  if (de <= 0 || d <= 0) throw InvalidArgument("plug-in: encoder_dim and llm_dim must be set");
  if (config.num_persona_tokens < 1) {
    throw InvalidArgument("plug-in: num_persona_tokens must be >= 1, got " +
                          std::to_string(config.num_persona_tokens));
  }
  if (!(config.temperature > 0)) {
    throw InvalidArgument("plug-in: temperature must be positive, got " +
                          std::to_string(config.temperature));
  }
  if (!config.use_persona && !config.use_instruction) {
    throw InvalidArgument("plug-in: persona and instruction tokens cannot both be off");
  }
  if (!(scale > 0) || !std::isfinite(scale)) {
    throw InvalidArgument("plug-in: soft-token scale must be positive and finite");
  }
  persona_proj = register_module("persona_proj", TwoLayerMlp(de, d, config.num_persona_tokens * d));
  instruction_proj = register_module("instruction_proj", TwoLayerMlp(de, d, d));
  instruction = register_parameter("instruction", at::randn({de}) / std::sqrt(double(de)));
  input_adapter = register_module("input_adapter", torch::nn::Linear(de, de));
  // Zero init: training starts from the frozen encoder's own similarity.
  {
    torch::NoGradGuard no_grad;
    input_adapter->weight.zero_();
    input_adapter->bias.zero_();
  }
  log_gain = register_parameter("log_gain", at::zeros({2}));
  log_temperature = register_parameter(
      "log_temperature", at::full({1}, std::log(config.temperature)),
      /*requires_grad=*/config.aggregator == AggregatorKind::kLearnedTemperature);
}

void PluginModuleImpl::attach_input_encoder(std::shared_ptr<BertEncoder> copy) {
  input_encoder_ = std::move(copy);
  register_module("input_encoder", input_encoder_->shared_module());
  for (auto& p : input_encoder_->module().parameters()) p.set_requires_grad(true);
  input_encoder_->module().eval();
}

void PluginModuleImpl::train(bool on) {
  torch::nn::Module::train(on);
  if (input_encoder_) input_encoder_->module().eval();
}

int64_t PluginModuleImpl::num_soft_tokens() const {
  return (config_.use_instruction ? 1 : 0) + (config_.use_persona ? config_.num_persona_tokens : 0);
}

torch::Tensor PluginModuleImpl::project_items(const torch::Tensor& items) {
  return persona_proj->forward(items);
}

torch::Tensor PluginModuleImpl::adapt_query(const torch::Tensor& query) {
  auto q = query + input_adapter->forward(query);
  return q / q.norm(2, -1, true).clamp_min(1e-12);
}

torch::Tensor PluginModuleImpl::normalize_tokens(const torch::Tensor& x, int kind) const {
  return x * (scale_ * log_gain[kind].exp() / x.norm(2, -1, true).clamp_min(1e-6));
}

torch::Tensor PluginModuleImpl::instruction_token() {
  return normalize_tokens(instruction_proj->forward(instruction), 0);
}

namespace {

// Scores standardized over each row's real items: (s - mean) / std. A row whose items all score
// alike (one item, or identical ones) gets zeros: uniform weights, as its cosines gave.
torch::Tensor standardize(const torch::Tensor& scores, const torch::Tensor& fmask) {
  const auto count = fmask.sum(1, true).clamp_min(1.0);
  const auto mean = (scores * fmask).sum(1, true) / count;
  const auto centered = (scores - mean) * fmask;
  const auto stddev = (centered.pow(2).sum(1, true) / count).sqrt();
  // The floor keeps rounding noise of equal cosines from being blown up into a selection.
  return centered / stddev.clamp_min(1e-4);
}

}  // namespace

SoftTokens PluginModuleImpl::forward(const torch::Tensor& keys, const torch::Tensor& projections,
                                     const torch::Tensor& mask, const torch::Tensor& query,
                                     const torch::Tensor& instruction_token_given) {
  const int64_t B = query.size(0), d = config_.llm_dim;
  std::vector<torch::Tensor> parts;
  SoftTokens out;
  if (config_.use_instruction) {
    const auto inst =
        instruction_token_given.defined() ? instruction_token_given : instruction_token();
    parts.push_back(inst.view({1, 1, d}).expand({B, 1, d}));
  }
  if (config_.use_persona) {
    const auto fmask = mask.to(at::kFloat);  // (B, N)
    torch::Tensor weights;
    if (config_.aggregator == AggregatorKind::kMean) {
      weights = fmask / fmask.sum(1, true).clamp_min(1.0);
    } else {
      auto q = adapt_query(query);                            // (B, d_e)
      auto sim = at::bmm(keys, q.unsqueeze(-1)).squeeze(-1);  // (B, N) cosine
      if (config_.scores == AttentionScores::kStandardized) sim = standardize(sim, fmask);
      auto visible = mask;
      if (config_.top_k > 0 && config_.top_k < keys.size(1)) {
        auto ranked = sim.masked_fill(mask.logical_not(), -1e9);
        auto kth = std::get<0>(ranked.topk(config_.top_k, 1)).narrow(1, config_.top_k - 1, 1);
        visible = mask.logical_and(ranked >= kth);
      }
      auto logits = (sim / log_temperature.exp()).masked_fill(visible.logical_not(), -1e9);
      // A user with no history gets all-zero weights (and so a zero persona token).
      weights = at::softmax(logits, 1) * visible.any(1, true).to(at::kFloat);
    }
    const int64_t np = config_.num_persona_tokens;
    auto persona = at::bmm(weights.unsqueeze(1), projections).view({B, np, d});  // (B, np, d)
    parts.push_back(normalize_tokens(persona, 1) *
                    (weights.sum(1) > 0).to(at::kFloat).view({B, 1, 1}));
    out.weights = weights;
  }
  out.tokens = at::cat(parts, 1);
  return out;
}

}  // namespace pplug::detail
