// Configuration of a T5 encoder-decoder (original T5, T5 v1.1, FlanT5). Field names mirror
// Hugging Face's T5Config (config.json), so a config file maps onto this struct one to one.
#pragma once

#include <cstdint>
#include <string>

namespace pplug {

struct T5Config {
  int64_t d_model = 0;             // width of the residual stream
  int64_t d_kv = 0;                // size of one attention head (heads x d_kv need not be d_model)
  int64_t d_ff = 0;                // feed-forward hidden width
  int64_t num_layers = 0;          // encoder blocks
  int64_t num_decoder_layers = 0;  // decoder blocks (HF: absent or null = num_layers)
  int64_t num_heads = 0;           // attention heads (no grouped-query attention in T5)
  int64_t vocab_size = 0;          // rows of the shared embedding (may exceed the tokenizer's)
  int64_t relative_attention_num_buckets = 32;    // relative-position buckets
  int64_t relative_attention_max_distance = 128;  // distance from which buckets stop growing
  double layer_norm_epsilon = 1e-6;               // T5's RMS norm epsilon
  // "relu" (original T5: wi, ReLU, wo) or "gated-gelu" (v1.1 / FlanT5: gelu_new(wi_0) * wi_1,
  // wo; gelu_new is the tanh approximation).
  std::string feed_forward_proj = "relu";
  // true (original T5): the output head is the shared embedding and the decoder output is
  // scaled by d_model^-0.5 first; false (v1.1 / FlanT5): a separate lm_head, no rescale.
  bool tie_word_embeddings = true;
  int64_t pad_token_id = 0;            // padding; HF T5 also starts decoding with it
  int64_t eos_token_id = 1;            // end of sequence: generation stops here
  int64_t decoder_start_token_id = 0;  // first decoder input (HF: pad)

  bool gated() const { return feed_forward_proj == "gated-gelu"; }
  int64_t inner_dim() const { return num_heads * d_kv; }  // width of q, k, v
  // Throws InvalidArgument naming `source`, the field and its value when a value is invalid.
  void validate(const std::string& source) const;
};

// Reads an HF config.json with model_type "t5"; FormatError naming the file and field when a
// required field is missing, has the wrong type, or the model_type is not "t5".
T5Config load_t5_config(const std::string& config_json_path);

}  // namespace pplug
