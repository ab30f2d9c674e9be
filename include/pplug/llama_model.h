// A frozen Llama-family decoder on libtorch: RMSNorm, RoPE (HF half-rotation layout, optionally
// scaled), grouped-query attention, SwiGLU, tied or untied output head; with the variations of
// Mistral (sliding window), Qwen2 (q/k/v biases) and Qwen3 (per-head q/k RMSNorm, explicit
// head_dim) that LlamaConfig describes.
//
// Two entry points: token ids (embed() then forward()) and input embeddings directly, which is
// how Persona-Plug's soft tokens enter the model. Weights never require grad; forward() without a
// cache is differentiable with respect to `inputs_embeds`, so a plug-in can be trained through it.
//
// Thread safety: a LlamaModel is immutable after construction; forward() may be called from
// several threads at once as long as each uses its own KVCache (copies of a KVCache share its
// storage, so they count as the same cache).
//
// Speed: a step of one new token per sequence with a cache and no gradient (decoding) runs on
// hand-written kernels that read each weight once, in its stored dtype, with float32
// activations and preallocated buffers held by the cache; everything else uses ATen ops.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "pplug/llama_config.h"

namespace pplug {

class LlamaModel;

// The keys and values of one sequence's real tokens, detached from any batch: a frozen prompt
// start computed once and reused. Training replays every prompt each epoch, and with the soft
// tokens placed late nothing before them depends on the plug-in.
struct CachedPrefix {
  std::vector<torch::Tensor> keys;    // per layer (KV, P, hd), the model's compute dtype
  std::vector<torch::Tensor> values;  // per layer (KV, P, hd)
  int64_t length = 0;                 // P real tokens, at RoPE positions 0..P-1
  size_t bytes() const;
};

// Preallocated keys/values of every layer for `batch` sequences of up to `capacity` positions.
// Padding is on the left; `mask` remembers which cached slots hold real tokens.
class KVCache {
 public:
  KVCache(const LlamaModel& model, int64_t batch, int64_t capacity);
  // A cache of prefixes.size() rows holding each prefix left-padded to the longest one, with
  // room for `extra` more positions after them. Throws InvalidArgument when a prefix does not
  // match the model's shapes or the capacity exceeds max_position_embeddings.
  KVCache(const LlamaModel& model, const std::vector<const CachedPrefix*>& prefixes, int64_t extra);

  int64_t batch() const { return batch_; }
  int64_t capacity() const { return capacity_; }
  int64_t length() const { return length_; }  // slots filled so far (same for every row)
  // Keeps rows `index` (B') in that order: beam search reorders hypotheses with it.
  void reorder(const torch::Tensor& index);
  // Row `row`'s real tokens copied out, for a row filled from its first token on (as a prompt
  // run through forward() into a fresh cache is).
  CachedPrefix extract_row(int64_t row) const;
  // Continuous batching: appends `other`'s rows (a cache of the same model) after this cache's
  // rows. Each row keeps its tokens and RoPE positions; the rows are re-aligned so that every
  // row's next token goes to the same slot, slots no row uses any more are dropped, and the room
  // after length() becomes the larger of the two caches' rooms.
  void append(const KVCache& other);

 private:
  friend class LlamaModel;
  int64_t batch_;
  int64_t capacity_;
  int64_t length_ = 0;
  std::vector<torch::Tensor> keys_;    // per layer (B, KV, capacity, hd)
  std::vector<torch::Tensor> values_;  // per layer (B, KV, capacity, hd)
  torch::Tensor mask_;                 // (B, capacity) int64, 1 = real token
  torch::Tensor next_position_;        // (B) int64, RoPE position of the next real token
  torch::Tensor scratch_;  // float32 work buffers of the one-token decode step; sized on first use
};

struct ForwardOptions {
  bool return_hidden = false;     // also return the final (normed) hidden states
  bool last_logits_only = false;  // logits of the last position only: (B, 1, V)
  bool skip_logits = false;       // no output head at all (encoders need only hidden states)
};

struct ForwardOutput {
  torch::Tensor
      logits;  // (B, T, V) float32, or (B, 1, V) with last_logits_only; undefined if skipped
  torch::Tensor hidden;  // (B, T, d) in the compute dtype; undefined unless return_hidden
};

class LlamaModel {
 public:
  // `weights` uses Hugging Face names (model.embed_tokens.weight,
  // model.layers.{i}.self_attn.q_proj.weight, ..., model.norm.weight, lm_head.weight) in the
  // HF (half-rotation) RoPE layout. Throws FormatError naming `source` and the tensor when one
  // is missing or has the wrong shape. `dtype` is the compute dtype (kFloat32 or kBFloat16).
  //
  // `weight_type` is how the matrices of the layers and the output head are stored: "" (the
  // compute dtype), "f32", "bf16", "f16", or llama.cpp's block-quantized "q8_0" and "q4_0"
  // (their rows must be multiples of 32 long). Activations, norms, the token embedding and the
  // KV cache stay in the compute dtype; the model fingerprint is that of the weights given, so a
  // model quantized at load keeps the fingerprint of the file it came from.
  LlamaModel(LlamaConfig config, const std::vector<std::pair<std::string, torch::Tensor>>& weights,
             torch::Dtype dtype = torch::kFloat32, const std::string& source = "model",
             const std::string& weight_type = "");

  const LlamaConfig& config() const { return config_; }
  torch::Dtype dtype() const { return dtype_; }
  // The storage type of the layer matrices ("f32", "bf16", "f16", "q8_0" or "q4_0").
  std::string weight_type() const;
  int64_t hidden_size() const { return config_.hidden_size; }

  // Token embeddings of `ids` (B, T) int64 -> (B, T, d) in the compute dtype.
  torch::Tensor embed(const torch::Tensor& ids) const;
  // The token-embedding matrix (V, d) in the compute dtype.
  const torch::Tensor& embedding_matrix() const { return embed_tokens_; }

  // inputs_embeds (B, T, d); attention_mask (B, T) with 1 for real tokens and 0 for left padding
  // (undefined = all real). With a cache, the tokens are appended after the cached ones.
  ForwardOutput forward(const torch::Tensor& inputs_embeds, const torch::Tensor& attention_mask,
                        KVCache* cache = nullptr, const ForwardOptions& options = {}) const;

  // All weights under their HF names and in the HF layout (what save_hf_model writes), in the
  // compute dtype (quantized matrices are dequantized).
  std::vector<std::pair<std::string, torch::Tensor>> named_weights() const;
  // Every weight tensor as stored (none requires grad; quantized matrices are uint8 blocks).
  std::vector<torch::Tensor> parameters() const;
  // A short hex digest of the config and all weights: identifies the exact model.
  const std::string& fingerprint() const { return fingerprint_; }

 private:
  friend class KVCache;
  // Matrices (w_*, lm_head_) are stored in matrix_type_: (rows, cols) tensors of a float type,
  // or uint8 (rows, bytes per row) for the block-quantized types.
  struct Layer {
    torch::Tensor attn_norm;      // (d)
    torch::Tensor w_qkv;          // (q_dim + 2 kv_dim, d): q, k, v projections fused
    torch::Tensor w_o;            // (d, q_dim)
    torch::Tensor ffn_norm;       // (d)
    torch::Tensor w_gate_up;      // (2 hidden, d): gate and up projections fused
    torch::Tensor w_down;         // (d, hidden)
    torch::Tensor attn_norm_f32;  // (d) float32 copies for the decode kernels (aliases if f32)
    torch::Tensor ffn_norm_f32;   // (d)
    // Present only when the config says so (undefined otherwise), each with a float32 copy.
    torch::Tensor qkv_bias, qkv_bias_f32;  // (q_dim + 2 kv_dim): q, k, v biases fused
    torch::Tensor o_bias, o_bias_f32;      // (d)
    torch::Tensor q_norm, q_norm_f32;      // (hd): RMSNorm weight of every query head
    torch::Tensor k_norm, k_norm_f32;      // (hd)
  };

  torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight) const;
  torch::Tensor attention(const Layer& layer, int64_t index, const torch::Tensor& x,
                          const torch::Tensor& cos, const torch::Tensor& sin,
                          const torch::Tensor& mask_bias, KVCache* cache) const;
  // Throws InvalidArgument when `positions` exceed the config's sliding window.
  void check_sliding_window(int64_t positions) const;
  // Re-stores every layer matrix and the output head as kernels::WeightType `type`.
  void pack_matrices(uint8_t type);
  // The fast path of forward() for T = 1 with a cache and no gradient; mask (B, 1) int64.
  ForwardOutput decode_step(const torch::Tensor& inputs_embeds, const torch::Tensor& mask,
                            KVCache& cache, const ForwardOptions& options) const;

  LlamaConfig config_;
  torch::Dtype dtype_;
  uint8_t matrix_type_ = 0;     // a kernels::WeightType (kernels/weight_type.h)
  torch::Tensor embed_tokens_;  // (V, d)
  torch::Tensor lm_head_;       // (V, d); same storage as embed_tokens_ when tied
  torch::Tensor final_norm_;    // (d)
  std::vector<Layer> layers_;
  torch::Tensor rope_cos_;        // (max_pos, hd) compute dtype
  torch::Tensor rope_sin_;        // (max_pos, hd)
  torch::Tensor final_norm_f32_;  // (d) float32 (aliases final_norm_ for float32 models)
  torch::Tensor rope_cos_f32_;    // (max_pos, hd) float32 (aliases rope_cos_ for float32 models)
  torch::Tensor rope_sin_f32_;    // (max_pos, hd) float32
  std::string fingerprint_;
};

}  // namespace pplug
