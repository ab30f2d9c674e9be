// T5Model behind the LanguageModel interface: a prompt is the encoder's input, encoded once; the
// continuation is the decoder's, which starts from decoder_start_token_id (HF: the pad id) and
// attends to the encoder output through its cached cross-attention keys and values.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <limits>

#include "pplug/error.h"
#include "pplug/language_model.h"
#include "pplug/t5_model.h"
#include "pplug/tokenizer.h"

namespace pplug {
namespace {

// Stacks prompts (T_b, d) right-padded into (B, S, d) in `dtype`, with their mask (B, S) int64.
std::pair<torch::Tensor, torch::Tensor> pad_prompts(const std::vector<torch::Tensor>& prompts,
                                                    torch::Dtype dtype) {
  int64_t longest = 0;
  for (const auto& p : prompts) longest = std::max(longest, p.size(0));
  const auto B = static_cast<int64_t>(prompts.size());
  std::vector<torch::Tensor> rows;
  rows.reserve(prompts.size());
  auto mask = at::zeros({B, longest}, at::kLong);
  for (int64_t b = 0; b < B; ++b) {
    const auto& p = prompts[b];
    const int64_t T = p.size(0);
    rows.push_back(
        at::cat({p.to(dtype), at::zeros({longest - T, p.size(1)}, p.options().dtype(dtype))}, 0));
    mask[b].narrow(0, 0, T).fill_(1);
  }
  return {at::stack(rows), mask};
}

class T5Session final : public DecodingSession {
 public:
  T5Session(const T5Model& model, const torch::Tensor& states, const torch::Tensor& mask,
            int64_t capacity)
      : model_(model), cache_(model, states, mask, capacity) {}

  torch::Tensor feed(const torch::Tensor& tokens, bool last_only) override {
    c10::InferenceMode guard;
    T5DecodeOptions options;
    options.last_logits_only = last_only;
    return model_.decode_step(model_.embed(tokens), cache_, options).logits;
  }
  void reorder(const torch::Tensor& index) override { cache_.reorder(index); }
  int64_t room() const override { return cache_.capacity() - cache_.length(); }
  // Rows share their decoder positions (and T5's relative position bias with them), so rows
  // join only while every row is at the same step: right after start().
  bool can_merge() const override { return cache_.length() <= 1; }
  bool merge(DecodingSession& other) override {
    auto* same = dynamic_cast<T5Session*>(&other);
    if (same == nullptr || &same->model_ != &model_) {
      throw InvalidArgument("DecodingSession::merge: the sessions run different models");
    }
    if (!can_merge() || same->cache_.length() != cache_.length()) return false;
    c10::InferenceMode guard;
    cache_.append(same->cache_);
    same->cache_.reorder(at::empty({0}, at::kLong));
    return true;
  }

 private:
  const T5Model& model_;
  T5DecoderCache cache_;
};

class T5LanguageModel final : public LanguageModel {
 public:
  explicit T5LanguageModel(std::shared_ptr<const T5Model> model) : model_(std::move(model)) {
    if (!model_) throw InvalidArgument("make_language_model: no model given");
  }

  std::string architecture() const override { return "t5"; }
  bool is_encoder_decoder() const override { return true; }
  int64_t hidden_size() const override { return model_->d_model(); }
  int64_t vocab_size() const override { return model_->config().vocab_size; }
  int64_t num_layers() const override {
    return model_->config().num_layers + model_->config().num_decoder_layers;
  }
  torch::Dtype dtype() const override { return model_->dtype(); }
  const std::string& fingerprint() const override { return model_->fingerprint(); }
  torch::Tensor embed(const torch::Tensor& ids) const override { return model_->embed(ids); }
  const torch::Tensor& embedding_matrix() const override { return model_->embedding_matrix(); }
  std::vector<int> prompt_start_ids(const Tokenizer&) const override { return {}; }
  std::vector<int> prompt_end_ids(const Tokenizer&) const override {
    return {static_cast<int>(model_->config().eos_token_id)};
  }
  int64_t max_positions() const override { return 0; }

  std::unique_ptr<DecodingSession> start(const std::vector<EmbeddedPrompt>& prompts,
                                         const std::vector<size_t>& rows, int64_t continuation,
                                         const PromptTail* tail,
                                         torch::Tensor* first_logits) const override {
    if (tail != nullptr) {
      throw InvalidArgument(
          "a T5 model reads its whole prompt in the encoder: a prompt tail (a prompt completed "
          "after the model has read its start) needs a decoder-only model");
    }
    c10::InferenceMode guard;
    std::vector<torch::Tensor> chosen;
    chosen.reserve(rows.size());
    for (size_t r : rows) chosen.push_back(prompts.at(r).embeds);
    const auto [embeds, mask] = pad_prompts(chosen, model_->dtype());
    const auto states = model_->encode(embeds, mask);
    // One more position for the decoder start token, which yields the first logits.
    auto session = std::make_unique<T5Session>(*model_, states, mask, continuation + 1);
    const auto R = static_cast<int64_t>(rows.size());
    const auto start_ids = at::full({R, 1}, model_->config().decoder_start_token_id, at::kLong);
    *first_logits = session->feed(start_ids, /*last_only=*/true).squeeze(1);
    return session;
  }

  torch::Tensor target_cross_entropy(const std::vector<torch::Tensor>& prompts,
                                     const std::vector<std::vector<int>>& targets) const override {
    const auto [embeds, mask] = pad_prompts(prompts, model_->dtype());
    const auto states = model_->encode(embeds, mask);
    const auto B = static_cast<int64_t>(prompts.size());
    int64_t longest = 1;
    for (const auto& t : targets) longest = std::max<int64_t>(longest, t.size());
    // Teacher forcing: the decoder reads [start] + target[:-1] and predicts the target.
    auto inputs = at::full({B, longest}, model_->config().pad_token_id, at::kLong);
    auto decoder_mask = at::zeros({B, longest}, at::kLong);
    auto labels = at::full({B, longest}, -100, at::kLong);
    for (int64_t b = 0; b < B; ++b) {
      const auto n = static_cast<int64_t>(targets[b].size());
      std::vector<int64_t> in = {model_->config().decoder_start_token_id};
      in.insert(in.end(), targets[b].begin(), targets[b].end());
      in.resize(std::max<int64_t>(n, 1));
      inputs[b].narrow(0, 0, static_cast<int64_t>(in.size())).copy_(at::tensor(in, at::kLong));
      decoder_mask[b].narrow(0, 0, static_cast<int64_t>(in.size())).fill_(1);
      if (n > 0) {
        labels[b].narrow(0, 0, n).copy_(
            at::tensor(std::vector<int64_t>(targets[b].begin(), targets[b].end()), at::kLong));
      }
    }
    const auto logits = model_->decode(model_->embed(inputs), decoder_mask, states, mask).logits;
    return at::cross_entropy_loss(logits.reshape({-1, logits.size(-1)}), labels.view({-1}), {},
                                  at::Reduction::Sum, -100);
  }

  torch::Tensor text_states(const torch::Tensor& inputs_embeds,
                            const torch::Tensor& mask) const override {
    c10::InferenceMode guard;
    return model_->encode(inputs_embeds, mask);
  }

 private:
  std::shared_ptr<const T5Model> model_;
};

}  // namespace

std::shared_ptr<const LanguageModel> make_language_model(std::shared_ptr<const T5Model> model) {
  return std::make_shared<T5LanguageModel>(std::move(model));
}

}  // namespace pplug
