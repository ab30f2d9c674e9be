// A frozen T5 encoder-decoder on libtorch (original T5, T5 v1.1, FlanT5): a shared token
// embedding, an encoder stack with bidirectional relative-position bias, a decoder stack with
// causal self-attention, cross-attention and a feed-forward block, T5's RMS norm (no mean, no
// bias), and no 1/sqrt(d) scaling of attention scores (T5 folds it into the initialisation).
//
// Entry points take input embeddings, so Persona-Plug's soft tokens can enter the encoder as
// rows of `inputs_embeds` (embed() turns ids into the same rows). Weights never require grad;
// encode() and decode() without a cache are differentiable with respect to their embeddings
// and the encoder states, so a plug-in trains through the frozen model.
//
// Padding: encoder and decoder inputs may be padded on either side; relative positions only
// depend on differences, so masking the padded keys is enough. A padded query row yields finite
// values that callers ignore.
//
// Thread safety: a T5Model is immutable after construction; several threads may decode at once
// as long as each uses its own T5DecoderCache.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "pplug/t5_config.h"

namespace pplug {

class T5Model;

// Per request state of incremental decoding: the cross-attention keys/values of every decoder
// layer (computed once from the encoder output) and a self-attention KV cache of `capacity`
// decoder positions.
class T5DecoderCache {
 public:
  // encoder_states (B, S, d) from T5Model::encode; encoder_mask (B, S) with 1 for real tokens
  // (undefined = all real).
  T5DecoderCache(const T5Model& model, const torch::Tensor& encoder_states,
                 const torch::Tensor& encoder_mask, int64_t capacity);

  int64_t batch() const { return batch_; }
  int64_t capacity() const { return capacity_; }
  int64_t length() const { return length_; }  // decoder positions filled so far
  // Keeps rows `index` (B') in that order (beam search, dropping finished requests).
  void reorder(const torch::Tensor& index);
  // Appends `other`'s rows (a cache of the same model holding as many decoder positions) after
  // this cache's rows; encoder outputs of different lengths are padded and masked. Throws
  // InvalidArgument when the decoder lengths differ: T5's rows share their decoder positions.
  void append(const T5DecoderCache& other);

 private:
  friend class T5Model;
  int64_t batch_;
  int64_t capacity_;
  int64_t length_ = 0;
  std::vector<torch::Tensor> keys_;        // per layer (B, H, capacity, d_kv)
  std::vector<torch::Tensor> values_;      // per layer (B, H, capacity, d_kv)
  std::vector<torch::Tensor> cross_keys_;  // per layer (B, H, S, d_kv)
  std::vector<torch::Tensor> cross_values_;
  torch::Tensor cross_bias_;  // (B, 1, 1, S) 0 for real encoder tokens, a large negative else
};

struct T5DecodeOptions {
  bool last_logits_only = false;  // logits of the last position only: (B, 1, V)
  bool return_hidden = false;     // also return the final normed decoder states
};

struct T5DecodeOutput {
  torch::Tensor logits;  // (B, T, V) float32, or (B, 1, V) with last_logits_only
  torch::Tensor hidden;  // (B, T, d) compute dtype; undefined unless return_hidden
};

class T5Model {
 public:
  // `weights` under Hugging Face names (shared.weight, encoder.block.{i}.layer.0.SelfAttention.q
  // .weight, ..., lm_head.weight when untied); see docs/formats.md. Throws FormatError naming
  // `source` and the tensor when one is missing, has the wrong shape or is not used. `dtype` is
  // the compute dtype (kFloat32 or kBFloat16); all weights are held in it.
  T5Model(T5Config config, const std::vector<std::pair<std::string, torch::Tensor>>& weights,
          torch::Dtype dtype = torch::kFloat32, const std::string& source = "model");

  const T5Config& config() const { return config_; }
  torch::Dtype dtype() const { return dtype_; }
  int64_t d_model() const { return config_.d_model; }

  // Token embeddings of `ids` (B, T) int64 -> (B, T, d) in the compute dtype.
  torch::Tensor embed(const torch::Tensor& ids) const;
  // The shared embedding matrix (V, d) in the compute dtype.
  const torch::Tensor& embedding_matrix() const { return shared_; }

  // The encoder: inputs_embeds (B, S, d), attention_mask (B, S) 1 = real (undefined = all real)
  // -> final normed encoder states (B, S, d) in the compute dtype.
  torch::Tensor encode(const torch::Tensor& inputs_embeds,
                       const torch::Tensor& attention_mask = {}) const;

  // The whole decoder over decoder_inputs_embeds (B, T, d) (teacher forcing, scoring, training):
  // causal self-attention over the T positions (decoder_mask (B, T) masks padded keys;
  // undefined = all real) and cross-attention over encoder_states (B, S, d) with encoder_mask.
  T5DecodeOutput decode(const torch::Tensor& decoder_inputs_embeds,
                        const torch::Tensor& decoder_mask, const torch::Tensor& encoder_states,
                        const torch::Tensor& encoder_mask,
                        const T5DecodeOptions& options = {}) const;

  // Incremental decoding: appends decoder_inputs_embeds (B, T, d) (all real tokens) after the
  // cache's positions; cross-attention uses the encoder output the cache was made from.
  T5DecodeOutput decode_step(const torch::Tensor& decoder_inputs_embeds, T5DecoderCache& cache,
                             const T5DecodeOptions& options = {}) const;

  // All weights under their HF names (what an HF folder holds), in the compute dtype.
  std::vector<std::pair<std::string, torch::Tensor>> named_weights() const;
  // A short hex digest of the config and all weights: identifies the exact model.
  const std::string& fingerprint() const { return fingerprint_; }

 private:
  friend class T5DecoderCache;
  struct Attention {
    torch::Tensor norm;   // (d) RMS norm before the block
    torch::Tensor w_q;    // (inner, d); undefined when fused into w_qkv
    torch::Tensor w_qkv;  // (3 inner, d) self-attention: q, k, v fused
    torch::Tensor w_kv;   // (2 inner, d) cross-attention: k, v fused (applied to encoder states)
    torch::Tensor w_o;    // (d, inner)
  };
  struct FeedForward {
    torch::Tensor norm;   // (d)
    torch::Tensor w_in;   // (d_ff, d) relu: wi; gated: (2 d_ff, d) = wi_0 (gate), wi_1 (up)
    torch::Tensor w_out;  // (d, d_ff) wo
  };
  struct EncoderLayer {
    Attention self;
    FeedForward ffn;
  };
  struct DecoderLayer {
    Attention self;
    Attention cross;
    FeedForward ffn;
  };

  torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight) const;
  torch::Tensor feed_forward(const FeedForward& f, const torch::Tensor& x) const;
  // softmax(q k^T + bias) v over heads, q (B, H, T, dk), k/v (B, H, S, dk), bias broadcastable
  // to (B, H, T, S) -> (B, T, inner).
  torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                       const torch::Tensor& bias) const;
  // Relative-position bias (1, H, T, S) of queries at positions q0.. q0+T-1 over keys 0..S-1.
  torch::Tensor position_bias(const torch::Tensor& table, int64_t q0, int64_t T, int64_t S,
                              bool bidirectional) const;
  torch::Tensor decoder_stack(torch::Tensor x, const torch::Tensor& self_bias,
                              const std::vector<torch::Tensor>& cross_k,
                              const std::vector<torch::Tensor>& cross_v,
                              const torch::Tensor& cross_bias, T5DecoderCache* cache) const;
  T5DecodeOutput head(const torch::Tensor& x, const T5DecodeOptions& options) const;

  T5Config config_;
  torch::Dtype dtype_;
  torch::Tensor shared_;        // (V, d)
  torch::Tensor lm_head_;       // (V, d); shared_ when tied
  torch::Tensor encoder_bias_;  // (buckets, H) encoder relative_attention_bias
  torch::Tensor decoder_bias_;  // (buckets, H)
  torch::Tensor encoder_norm_;  // (d)
  torch::Tensor decoder_norm_;  // (d)
  std::vector<EncoderLayer> encoder_;
  std::vector<DecoderLayer> decoder_;
  std::string fingerprint_;
};

// T5's relative-position bucket (HF's _relative_position_bucket) of `relative_position` = key
// position - query position: exact buckets for small distances, logarithmic ones up to
// max_distance; bidirectional uses half the buckets for keys after the query.
int64_t t5_relative_position_bucket(int64_t relative_position, bool bidirectional,
                                    int64_t num_buckets, int64_t max_distance);

}  // namespace pplug
