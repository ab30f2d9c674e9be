// Building a T5Model from HF-named tensors, its weights back under those names, and the
// decoder cache.
#include "pplug/t5_model.h"

#include <ATen/ATen.h>

#include "kernels/dense_linear.h"
#include "models/t5/t5_weights.h"
#include "models/tensor_fingerprint.h"
#include "pplug/error.h"

namespace pplug {
namespace {

// Score added to attention logits of keys a query may not see. Finite (not -inf) so that a
// query with no visible key (a padding row) yields uniform weights instead of NaN.
constexpr double kMaskedScore = -1e30;

std::string config_salt(const T5Config& c) {
  return "t5:" + std::to_string(c.d_model) + ":" + std::to_string(c.d_kv) + ":" +
         std::to_string(c.d_ff) + ":" + std::to_string(c.num_layers) + ":" +
         std::to_string(c.num_decoder_layers) + ":" + std::to_string(c.num_heads) + ":" +
         std::to_string(c.vocab_size) + ":" + std::to_string(c.relative_attention_num_buckets) +
         ":" + std::to_string(c.relative_attention_max_distance) + ":" + c.feed_forward_proj + ":" +
         (c.tie_word_embeddings ? "tied" : "untied");
}

}  // namespace

T5Model::T5Model(T5Config config, const std::vector<std::pair<std::string, torch::Tensor>>& weights,
                 torch::Dtype dtype, const std::string& source)
    : config_(std::move(config)), dtype_(dtype) {
  config_.validate(source);
  if (dtype != torch::kFloat32 && dtype != torch::kBFloat16) {
    throw InvalidArgument(source + ": compute dtype must be float32 or bfloat16");
  }
  const auto& c = config_;
  const int64_t d = c.d_model, inner = c.inner_dim(), ff = c.d_ff, V = c.vocab_size;
  const int64_t buckets = c.relative_attention_num_buckets, H = c.num_heads;
  detail::T5WeightTable w(weights, source);

  // HF checkpoints hold the shared embedding as shared.weight; some also (or only) hold the tied
  // copies encoder/decoder.embed_tokens.weight, as llama.cpp's converter also accepts.
  std::string embedding = "shared.weight";
  for (const char* alias : {"encoder.embed_tokens.weight", "decoder.embed_tokens.weight"}) {
    if (!w.has(embedding) && w.has(alias)) embedding = alias;
  }
  shared_ = w.get(embedding, {V, d}, dtype);
  for (const char* alias : {"encoder.embed_tokens.weight", "decoder.embed_tokens.weight"}) {
    if (alias != embedding && w.has(alias)) {
      if (!w.get(alias, {V, d}, dtype).equal(shared_)) {
        throw FormatError(source + ": tensor '" + alias + "' differs from '" + embedding +
                          "' (T5 shares one embedding)");
      }
    }
  }
  if (c.tie_word_embeddings) {
    lm_head_ = shared_;
    w.ignore("lm_head.weight");  // some tied checkpoints store the copy
  } else {
    lm_head_ = w.get("lm_head.weight", {V, d}, dtype);
  }

  auto ffn = [&](const std::string& p) {
    FeedForward f;
    f.norm = w.get(p + "layer_norm.weight", {d}, dtype);
    if (c.gated()) {
      f.w_in = at::cat({w.get(p + "DenseReluDense.wi_0.weight", {ff, d}, dtype),
                        w.get(p + "DenseReluDense.wi_1.weight", {ff, d}, dtype)});
    } else {
      f.w_in = w.get(p + "DenseReluDense.wi.weight", {ff, d}, dtype);
    }
    f.w_out = w.get(p + "DenseReluDense.wo.weight", {d, ff}, dtype);
    return f;
  };
  auto self_attention = [&](const std::string& p) {
    Attention a;
    a.norm = w.get(p + "layer_norm.weight", {d}, dtype);
    a.w_qkv = at::cat({w.get(p + "SelfAttention.q.weight", {inner, d}, dtype),
                       w.get(p + "SelfAttention.k.weight", {inner, d}, dtype),
                       w.get(p + "SelfAttention.v.weight", {inner, d}, dtype)});
    a.w_o = w.get(p + "SelfAttention.o.weight", {d, inner}, dtype);
    return a;
  };

  for (int64_t i = 0; i < c.num_layers; ++i) {
    const std::string p = "encoder.block." + std::to_string(i) + ".layer.";
    EncoderLayer layer;
    layer.self = self_attention(p + "0.");
    layer.ffn = ffn(p + "1.");
    encoder_.push_back(std::move(layer));
  }
  for (int64_t i = 0; i < c.num_decoder_layers; ++i) {
    const std::string p = "decoder.block." + std::to_string(i) + ".layer.";
    DecoderLayer layer;
    layer.self = self_attention(p + "0.");
    layer.cross.norm = w.get(p + "1.layer_norm.weight", {d}, dtype);
    layer.cross.w_q = w.get(p + "1.EncDecAttention.q.weight", {inner, d}, dtype);
    layer.cross.w_kv = at::cat({w.get(p + "1.EncDecAttention.k.weight", {inner, d}, dtype),
                                w.get(p + "1.EncDecAttention.v.weight", {inner, d}, dtype)});
    layer.cross.w_o = w.get(p + "1.EncDecAttention.o.weight", {d, inner}, dtype);
    layer.ffn = ffn(p + "2.");
    decoder_.push_back(std::move(layer));
  }
  // Only the first block of each stack has a relative-position table; the others reuse it.
  encoder_bias_ = w.get("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
                        {buckets, H}, at::kFloat);
  decoder_bias_ = w.get("decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
                        {buckets, H}, at::kFloat);
  encoder_norm_ = w.get("encoder.final_layer_norm.weight", {d}, dtype);
  decoder_norm_ = w.get("decoder.final_layer_norm.weight", {d}, dtype);
  w.require_all_used("a T5 model with num_layers " + std::to_string(c.num_layers) +
                     ", num_decoder_layers " + std::to_string(c.num_decoder_layers) +
                     ", feed_forward_proj " + c.feed_forward_proj +
                     (c.tie_word_embeddings ? ", tied head" : ", untied head"));
  fingerprint_ = detail::fingerprint_tensors(named_weights(), config_salt(c));
}

std::vector<std::pair<std::string, torch::Tensor>> T5Model::named_weights() const {
  const int64_t inner = config_.inner_dim(), ff = config_.d_ff;
  std::vector<std::pair<std::string, torch::Tensor>> out;
  out.emplace_back("shared.weight", shared_);
  auto self_attention = [&](const std::string& p, const Attention& a) {
    out.emplace_back(p + "layer_norm.weight", a.norm);
    out.emplace_back(p + "SelfAttention.q.weight", a.w_qkv.narrow(0, 0, inner));
    out.emplace_back(p + "SelfAttention.k.weight", a.w_qkv.narrow(0, inner, inner));
    out.emplace_back(p + "SelfAttention.v.weight", a.w_qkv.narrow(0, 2 * inner, inner));
    out.emplace_back(p + "SelfAttention.o.weight", a.w_o);
  };
  auto ffn = [&](const std::string& p, const FeedForward& f) {
    out.emplace_back(p + "layer_norm.weight", f.norm);
    if (config_.gated()) {
      out.emplace_back(p + "DenseReluDense.wi_0.weight", f.w_in.narrow(0, 0, ff));
      out.emplace_back(p + "DenseReluDense.wi_1.weight", f.w_in.narrow(0, ff, ff));
    } else {
      out.emplace_back(p + "DenseReluDense.wi.weight", f.w_in);
    }
    out.emplace_back(p + "DenseReluDense.wo.weight", f.w_out);
  };
  for (size_t i = 0; i < encoder_.size(); ++i) {
    const std::string p = "encoder.block." + std::to_string(i) + ".layer.";
    self_attention(p + "0.", encoder_[i].self);
    if (i == 0) {
      out.emplace_back(p + "0.SelfAttention.relative_attention_bias.weight",
                       encoder_bias_.to(dtype_));
    }
    ffn(p + "1.", encoder_[i].ffn);
  }
  out.emplace_back("encoder.final_layer_norm.weight", encoder_norm_);
  for (size_t i = 0; i < decoder_.size(); ++i) {
    const std::string p = "decoder.block." + std::to_string(i) + ".layer.";
    const auto& l = decoder_[i];
    self_attention(p + "0.", l.self);
    if (i == 0) {
      out.emplace_back(p + "0.SelfAttention.relative_attention_bias.weight",
                       decoder_bias_.to(dtype_));
    }
    out.emplace_back(p + "1.layer_norm.weight", l.cross.norm);
    out.emplace_back(p + "1.EncDecAttention.q.weight", l.cross.w_q);
    out.emplace_back(p + "1.EncDecAttention.k.weight", l.cross.w_kv.narrow(0, 0, inner));
    out.emplace_back(p + "1.EncDecAttention.v.weight", l.cross.w_kv.narrow(0, inner, inner));
    out.emplace_back(p + "1.EncDecAttention.o.weight", l.cross.w_o);
    ffn(p + "2.", l.ffn);
  }
  out.emplace_back("decoder.final_layer_norm.weight", decoder_norm_);
  if (!config_.tie_word_embeddings) out.emplace_back("lm_head.weight", lm_head_);
  return out;
}

torch::Tensor T5Model::embed(const torch::Tensor& ids) const {
  if (ids.numel() > 0) {
    const auto lo = ids.min().item<int64_t>(), hi = ids.max().item<int64_t>();
    if (lo < 0 || hi >= config_.vocab_size) {
      throw InvalidArgument("T5Model::embed: token id " + std::to_string(lo < 0 ? lo : hi) +
                            " is outside the vocabulary (size " +
                            std::to_string(config_.vocab_size) + ")");
    }
  }
  return at::embedding(shared_, ids.to(at::kLong));
}

torch::Tensor T5Model::rms_norm(const torch::Tensor& x, const torch::Tensor& weight) const {
  // T5LayerNorm: no mean subtracted, no bias; the variance in float32 whatever the dtype.
  auto xf = x.to(at::kFloat);
  auto normed = xf * at::rsqrt(xf.pow(2).mean(-1, true) + config_.layer_norm_epsilon);
  return weight * normed.to(dtype_);
}

T5DecoderCache::T5DecoderCache(const T5Model& model, const torch::Tensor& encoder_states,
                               const torch::Tensor& encoder_mask, int64_t capacity)
    : capacity_(capacity) {
  const auto& c = model.config();
  if (!encoder_states.defined() || encoder_states.dim() != 3 ||
      encoder_states.size(2) != c.d_model || encoder_states.size(1) == 0) {
    throw InvalidArgument("T5DecoderCache: encoder_states must have shape (B, S > 0, " +
                          std::to_string(c.d_model) + ")");
  }
  batch_ = encoder_states.size(0);
  const int64_t S = encoder_states.size(1), H = c.num_heads, dk = c.d_kv, inner = c.inner_dim();
  if (batch_ <= 0 || capacity <= 0) {
    throw InvalidArgument("T5DecoderCache: batch and capacity must be positive");
  }
  auto mask =
      encoder_mask.defined() ? encoder_mask.to(at::kLong) : at::ones({batch_, S}, at::kLong);
  if (mask.sizes() != at::IntArrayRef({batch_, S})) {
    throw InvalidArgument("T5DecoderCache: encoder_mask must have shape (B, S) = (" +
                          std::to_string(batch_) + ", " + std::to_string(S) + ")");
  }
  cross_bias_ = at::zeros({batch_, 1, 1, S}, at::kFloat)
                    .masked_fill(mask.eq(0).view({batch_, 1, 1, S}), kMaskedScore);
  const auto states = encoder_states.detach().to(model.dtype());
  const auto opts = at::TensorOptions().dtype(model.dtype());
  for (const auto& layer : model.decoder_) {
    // Keys and values of the encoder output: the same at every step of the request.
    auto kv = kernels::dense_linear(states, layer.cross.w_kv);  // (B, S, 2 inner)
    cross_keys_.push_back(kv.narrow(-1, 0, inner).view({batch_, S, H, dk}).transpose(1, 2));
    cross_values_.push_back(kv.narrow(-1, inner, inner).view({batch_, S, H, dk}).transpose(1, 2));
    keys_.push_back(at::zeros({batch_, H, capacity, dk}, opts));
    values_.push_back(at::zeros({batch_, H, capacity, dk}, opts));
  }
}

void T5DecoderCache::reorder(const torch::Tensor& index) {
  const auto rows = index.to(at::kLong);
  if (rows.numel() > 0 &&
      (rows.min().item<int64_t>() < 0 || rows.max().item<int64_t>() >= batch_)) {
    throw InvalidArgument("T5DecoderCache::reorder: a row is outside the batch of " +
                          std::to_string(batch_));
  }
  for (auto* list : {&keys_, &values_, &cross_keys_, &cross_values_}) {
    for (auto& t : *list) t = t.index_select(0, rows);
  }
  cross_bias_ = cross_bias_.index_select(0, rows);
  batch_ = rows.numel();
}

void T5DecoderCache::append(const T5DecoderCache& other) {
  if (other.length_ != length_) {
    throw InvalidArgument("T5DecoderCache::append: the caches hold " + std::to_string(length_) +
                          " and " + std::to_string(other.length_) +
                          " decoder positions; T5's rows must be at the same step");
  }
  if (other.keys_.size() != keys_.size()) {
    throw InvalidArgument("T5DecoderCache::append: the caches belong to different models");
  }
  if (other.batch_ == 0) return;
  // Pads `t` along `dim` to `size` with `value` (a padded encoder slot is masked by its bias).
  auto pad = [](const torch::Tensor& t, int64_t dim, int64_t size, double value) {
    if (t.size(dim) == size) return t;
    auto shape = t.sizes().vec();
    shape[dim] = size - t.size(dim);
    return at::cat({t, at::full(shape, value, t.options())}, dim);
  };
  const int64_t capacity = std::max(capacity_, other.capacity_);
  const int64_t S = std::max(cross_bias_.size(3), other.cross_bias_.size(3));
  for (size_t l = 0; l < keys_.size(); ++l) {
    keys_[l] = at::cat({pad(keys_[l], 2, capacity, 0), pad(other.keys_[l], 2, capacity, 0)});
    values_[l] = at::cat({pad(values_[l], 2, capacity, 0), pad(other.values_[l], 2, capacity, 0)});
    cross_keys_[l] = at::cat({pad(cross_keys_[l], 2, S, 0), pad(other.cross_keys_[l], 2, S, 0)});
    cross_values_[l] =
        at::cat({pad(cross_values_[l], 2, S, 0), pad(other.cross_values_[l], 2, S, 0)});
  }
  cross_bias_ =
      at::cat({pad(cross_bias_, 3, S, kMaskedScore), pad(other.cross_bias_, 3, S, kMaskedScore)});
  batch_ += other.batch_;
  capacity_ = capacity;
}

}  // namespace pplug
