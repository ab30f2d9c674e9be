// Configuration of a BERT encoder (BertModel as used by BGE and Contriever). Field names mirror
// Hugging Face's BertConfig (config.json).
#pragma once

#include <cstdint>
#include <string>

namespace pplug::bert {

struct BertConfig {
  int64_t vocab_size = 0;                     // rows of the word embedding
  int64_t hidden_size = 0;                    // H: width of the residual stream
  int64_t num_hidden_layers = 0;              // transformer layers
  int64_t num_attention_heads = 0;            // heads; divides hidden_size
  int64_t intermediate_size = 0;              // feed-forward width
  int64_t max_position_embeddings = 512;      // longest input, [CLS] and [SEP] included
  int64_t type_vocab_size = 2;                // rows of the token-type (segment) embedding
  double layer_norm_eps = 1e-12;              // LayerNorm epsilon
  double hidden_dropout_prob = 0.1;           // dropout on embeddings and sublayer outputs
  double attention_probs_dropout_prob = 0.1;  // dropout on attention weights
  std::string hidden_act = "gelu";            // only "gelu" (exact, erf-based) is supported

  int64_t head_dim() const { return hidden_size / num_attention_heads; }
  // Throws InvalidArgument naming `source` and the field when a value is out of range.
  void validate(const std::string& source) const;
};

// Reads an HF config.json. Throws FormatError naming the file and the field when a required
// field (vocab_size, hidden_size, num_hidden_layers, num_attention_heads, intermediate_size,
// max_position_embeddings) is missing, a field has the wrong type, or the model is not a plain
// BERT (model_type other than "bert", position_embedding_type other than "absolute",
// hidden_act other than "gelu"). Optional fields take HF's defaults.
BertConfig load_bert_config(const std::string& config_json_path);
// Writes an HF-compatible config.json (BertModel) atomically.
void save_bert_config(const BertConfig& config, const std::string& config_json_path);

}  // namespace pplug::bert
