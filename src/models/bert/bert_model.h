// BERT encoder (HF BertModel without the pooler) as libtorch modules. Submodules and parameters
// are registered under the Hugging Face names (embeddings.word_embeddings.weight,
// encoder.layer.{i}.attention.self.query.weight, ...), so named_parameters() lists exactly the
// checkpoint keys and loading is a name lookup. Post-LayerNorm layers, exact (erf) GELU, dropout
// from the config applied only in training mode.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <string>
#include <utility>
#include <vector>

#include "format/bert_config.h"

namespace pplug {
class SafetensorsFile;
}

namespace pplug::bert {

// One transformer layer: self-attention and feed-forward, each followed by residual + LayerNorm.
class BertLayerImpl : public torch::nn::Module {
 public:
  explicit BertLayerImpl(const BertConfig& config);
  // x (B, T, H); mask_bias (B, 1, 1, T): 0 for real keys, a large negative value for padding.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask_bias);

 private:
  int64_t heads_;
  int64_t head_dim_;
  double attention_dropout_;
  double hidden_dropout_;
  torch::nn::Linear query_{nullptr};
  torch::nn::Linear key_{nullptr};
  torch::nn::Linear value_{nullptr};
  torch::nn::Linear attention_output_{nullptr};
  torch::nn::LayerNorm attention_norm_{nullptr};
  torch::nn::Linear intermediate_{nullptr};
  torch::nn::Linear output_{nullptr};
  torch::nn::LayerNorm output_norm_{nullptr};
};
TORCH_MODULE(BertLayer);

class BertModelImpl : public torch::nn::Module {
 public:
  explicit BertModelImpl(BertConfig config);

  // ids (B, T) int64; attention_mask (B, T), 1 = token, 0 = padding (undefined = no padding);
  // token_type_ids (B, T) int64 (undefined = all 0). Returns the last hidden states (B, T, H).
  // Throws InvalidArgument when T exceeds max_position_embeddings.
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& attention_mask = {},
                        const torch::Tensor& token_type_ids = {});

  const BertConfig& config() const { return config_; }

 private:
  BertConfig config_;
  torch::nn::Embedding word_embeddings_{nullptr};
  torch::nn::Embedding position_embeddings_{nullptr};
  torch::nn::Embedding token_type_embeddings_{nullptr};
  torch::nn::LayerNorm embeddings_norm_{nullptr};
  std::vector<BertLayer> layers_;
};
TORCH_MODULE(BertModel);

// hidden (B, T, H) -> (B, H): the [CLS] (first) position.
torch::Tensor cls_pool(const torch::Tensor& hidden);
// hidden (B, T, H), attention_mask (B, T) -> (B, H): mean over the real tokens.
torch::Tensor mean_pool(const torch::Tensor& hidden, const torch::Tensor& attention_mask);

// Copies every parameter of `model` from `file` (float32). Keys may all carry a "bert." prefix;
// other tensors (pooler.*, embeddings.position_ids, heads) are ignored. Throws FormatError
// naming the file and the tensor when one is missing or has another shape.
void load_bert_weights(BertModelImpl& model, const SafetensorsFile& file);
// The parameters under their HF names (detached), as save_safetensors takes them.
std::vector<std::pair<std::string, torch::Tensor>> bert_named_weights(BertModelImpl& model);

}  // namespace pplug::bert
