#include "models/bert/bert_model.h"

#include <ATen/ATen.h>
#include <torch/utils.h>

#include <cmath>
#include <limits>
#include <memory>

#include "pplug/error.h"
#include "pplug/safetensors.h"

namespace pplug::bert {
namespace {

// An empty module that only groups children, so that parameter names follow HF's nesting.
std::shared_ptr<torch::nn::Module> add_group(torch::nn::Module& parent, const std::string& name) {
  return parent.register_module(name, std::make_shared<torch::nn::Module>());
}

torch::nn::LayerNorm make_norm(const BertConfig& c) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps));
}

torch::Tensor maybe_dropout(const torch::Tensor& x, double p, bool training) {
  return p > 0 && training ? at::dropout(x, p, /*train=*/true) : x;
}

std::string shape_string(at::IntArrayRef shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

BertLayerImpl::BertLayerImpl(const BertConfig& c)
    : heads_(c.num_attention_heads),
      head_dim_(c.head_dim()),
      attention_dropout_(c.attention_probs_dropout_prob),
      hidden_dropout_(c.hidden_dropout_prob) {
  const int64_t h = c.hidden_size;
  auto attention = add_group(*this, "attention");
  auto self = add_group(*attention, "self");
  query_ = self->register_module("query", torch::nn::Linear(h, h));
  key_ = self->register_module("key", torch::nn::Linear(h, h));
  value_ = self->register_module("value", torch::nn::Linear(h, h));
  auto attention_out = add_group(*attention, "output");
  attention_output_ = attention_out->register_module("dense", torch::nn::Linear(h, h));
  attention_norm_ = attention_out->register_module("LayerNorm", make_norm(c));
  auto intermediate = add_group(*this, "intermediate");
  intermediate_ = intermediate->register_module("dense", torch::nn::Linear(h, c.intermediate_size));
  auto output = add_group(*this, "output");
  output_ = output->register_module("dense", torch::nn::Linear(c.intermediate_size, h));
  output_norm_ = output->register_module("LayerNorm", make_norm(c));
}

torch::Tensor BertLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& mask_bias) {
  const int64_t b = x.size(0);
  const int64_t t = x.size(1);
  // (B, T, H) -> (B, nh, T, hd)
  const auto split_heads = [&](const torch::Tensor& y) {
    return y.view({b, t, heads_, head_dim_}).transpose(1, 2);
  };
  const torch::Tensor q = split_heads(query_(x));
  const torch::Tensor k = split_heads(key_(x));
  const torch::Tensor v = split_heads(value_(x));
  torch::Tensor scores = at::matmul(q, k.transpose(-2, -1)) / std::sqrt(double(head_dim_));
  scores = scores + mask_bias;  // (B, nh, T, T)
  const torch::Tensor probs =
      maybe_dropout(at::softmax(scores, -1), attention_dropout_, is_training());
  const torch::Tensor context =
      at::matmul(probs, v).transpose(1, 2).reshape({b, t, heads_ * head_dim_});  // (B, T, H)
  const torch::Tensor attended = attention_norm_(
      maybe_dropout(attention_output_(context), hidden_dropout_, is_training()) + x);
  const torch::Tensor inner = at::gelu(intermediate_(attended));  // (B, T, I), exact GELU
  return output_norm_(maybe_dropout(output_(inner), hidden_dropout_, is_training()) + attended);
}

BertModelImpl::BertModelImpl(BertConfig config) : config_(std::move(config)) {
  config_.validate("BertModel");
  const BertConfig& c = config_;
  auto embeddings = add_group(*this, "embeddings");
  word_embeddings_ = embeddings->register_module("word_embeddings",
                                                 torch::nn::Embedding(c.vocab_size, c.hidden_size));
  position_embeddings_ = embeddings->register_module(
      "position_embeddings", torch::nn::Embedding(c.max_position_embeddings, c.hidden_size));
  token_type_embeddings_ = embeddings->register_module(
      "token_type_embeddings", torch::nn::Embedding(c.type_vocab_size, c.hidden_size));
  embeddings_norm_ = embeddings->register_module("LayerNorm", make_norm(c));
  auto encoder = add_group(*this, "encoder");
  auto layer_list = encoder->register_module("layer", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    layers_.emplace_back(c);
    layer_list->push_back(layers_.back());  // registered as "encoder.layer.{i}"
  }
}

torch::Tensor BertModelImpl::forward(const torch::Tensor& ids, const torch::Tensor& attention_mask,
                                     const torch::Tensor& token_type_ids) {
  TORCH_CHECK(ids.dim() == 2, "BertModel: ids must be (B, T), got ", ids.sizes());
  const int64_t t = ids.size(1);
  if (t > config_.max_position_embeddings) {
    throw InvalidArgument("BertModel: sequence of " + std::to_string(t) +
                          " tokens exceeds max_position_embeddings " +
                          std::to_string(config_.max_position_embeddings));
  }
  const torch::Tensor positions = at::arange(t, ids.options().dtype(at::kLong));  // (T)
  const torch::Tensor types = token_type_ids.defined()
                                  ? token_type_ids
                                  : at::zeros_like(ids, ids.options().dtype(at::kLong));
  torch::Tensor x = word_embeddings_(ids) + position_embeddings_(positions).unsqueeze(0) +
                    token_type_embeddings_(types);  // (B, T, H)
  x = maybe_dropout(embeddings_norm_(x), config_.hidden_dropout_prob, is_training());

  torch::Tensor mask_bias;  // (B, 1, 1, T): padded keys get the lowest float
  if (attention_mask.defined()) {
    const torch::Tensor keep = attention_mask.to(x.scalar_type()).unsqueeze(1).unsqueeze(2);
    mask_bias = (1.0 - keep) * std::numeric_limits<float>::lowest();
  } else {
    mask_bias = at::zeros({1, 1, 1, t}, x.options());
  }
  for (BertLayer& layer : layers_) x = layer(x, mask_bias);
  return x;
}

torch::Tensor cls_pool(const torch::Tensor& hidden) { return hidden.select(1, 0); }

torch::Tensor mean_pool(const torch::Tensor& hidden, const torch::Tensor& attention_mask) {
  const torch::Tensor keep = attention_mask.to(hidden.scalar_type()).unsqueeze(-1);  // (B, T, 1)
  return (hidden * keep).sum(1) / keep.sum(1).clamp_min(1.0);
}

void load_bert_weights(BertModelImpl& model, const SafetensorsFile& file) {
  const bool prefixed = !file.contains("embeddings.word_embeddings.weight") &&
                        file.contains("bert.embeddings.word_embeddings.weight");
  const std::string prefix = prefixed ? "bert." : "";
  torch::NoGradGuard no_grad;
  for (auto& item : model.named_parameters()) {
    const std::string key = prefix + item.key();
    torch::Tensor& param = item.value();
    if (!file.contains(key)) throw FormatError(file.path() + ": missing tensor '" + key + "'");
    const std::vector<int64_t>& stored = file.info(key).shape;
    if (stored != param.sizes().vec()) {
      throw FormatError(file.path() + ": tensor '" + key + "' has shape " + shape_string(stored) +
                        ", expected " + shape_string(param.sizes()));
    }
    param.copy_(file.get(key, at::kFloat));
  }
}

std::vector<std::pair<std::string, torch::Tensor>> bert_named_weights(BertModelImpl& model) {
  std::vector<std::pair<std::string, torch::Tensor>> weights;
  for (const auto& item : model.named_parameters()) {
    weights.emplace_back(item.key(), item.value().detach());
  }
  return weights;
}

}  // namespace pplug::bert
