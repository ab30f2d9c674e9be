// LlamaModel behind the LanguageModel interface: a prompt is the start of the sequence the model
// continues, decoded through its KV cache.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>

#include "pplug/error.h"
#include "pplug/language_model.h"
#include "pplug/llama_model.h"
#include "pplug/tokenizer.h"

namespace pplug {
namespace {

class LlamaSession final : public DecodingSession {
 public:
  LlamaSession(const LlamaModel& model, int64_t batch, int64_t capacity)
      : model_(model), cache_(model, batch, capacity) {}

  torch::Tensor feed(const torch::Tensor& tokens, bool last_only) override {
    c10::InferenceMode guard;
    ForwardOptions options;
    options.last_logits_only = last_only;
    const auto ones = at::ones({tokens.size(0), tokens.size(1)}, at::kLong);
    return model_.forward(model_.embed(tokens), ones, &cache_, options).logits;
  }
  void reorder(const torch::Tensor& index) override { cache_.reorder(index); }
  int64_t room() const override { return cache_.capacity() - cache_.length(); }
  bool can_merge() const override { return true; }
  bool merge(DecodingSession& other) override {
    auto* same = dynamic_cast<LlamaSession*>(&other);
    if (same == nullptr || &same->model_ != &model_) {
      throw InvalidArgument("DecodingSession::merge: the sessions run different models");
    }
    c10::InferenceMode guard;
    cache_.append(same->cache_);
    same->cache_.reorder(at::empty({0}, at::kLong));
    return true;
  }

  KVCache& cache() { return cache_; }

 private:
  const LlamaModel& model_;
  KVCache cache_;
};

class LlamaLanguageModel final : public LanguageModel {
 public:
  explicit LlamaLanguageModel(std::shared_ptr<const LlamaModel> model) : model_(std::move(model)) {
    if (!model_) throw InvalidArgument("make_language_model: no model given");
  }

  std::string architecture() const override { return "llama"; }
  bool is_encoder_decoder() const override { return false; }
  int64_t hidden_size() const override { return model_->hidden_size(); }
  int64_t vocab_size() const override { return model_->config().vocab_size; }
  int64_t num_layers() const override { return model_->config().num_hidden_layers; }
  torch::Dtype dtype() const override { return model_->dtype(); }
  const std::string& fingerprint() const override { return model_->fingerprint(); }
  torch::Tensor embed(const torch::Tensor& ids) const override { return model_->embed(ids); }
  const torch::Tensor& embedding_matrix() const override { return model_->embedding_matrix(); }
  std::vector<int> prompt_start_ids(const Tokenizer& tokenizer) const override {
    if (tokenizer.bos_id() < 0) return {};  // tokenizers without BOS (Qwen's)
    return {tokenizer.bos_id()};
  }
  std::vector<int> prompt_end_ids(const Tokenizer&) const override { return {}; }
  int64_t max_positions() const override { return model_->config().max_position_embeddings; }
  const LlamaModel* decoder_only() const override { return model_.get(); }

  std::unique_ptr<DecodingSession> start(const std::vector<EmbeddedPrompt>& prompts,
                                         const std::vector<size_t>& rows, int64_t continuation,
                                         const PromptTail* tail,
                                         torch::Tensor* first_logits) const override {
    c10::InferenceMode guard;
    const auto R = static_cast<int64_t>(rows.size());
    const int64_t d = model_->hidden_size();
    int64_t longest = 0;
    for (size_t r : rows) longest = std::max(longest, prompts.at(r).embeds.size(0));
    const int64_t extra = tail != nullptr ? tail->length : 0;
    const int64_t capacity = std::min<int64_t>(longest + extra + continuation, max_positions());
    auto session = std::make_unique<LlamaSession>(*model_, R, capacity);
    // Left padding keeps every row's next token in the same cache slot.
    auto embeds = at::zeros({R, longest, d}, at::TensorOptions().dtype(model_->dtype()));
    auto mask = at::zeros({R, longest}, at::kLong);
    for (int64_t i = 0; i < R; ++i) {
      const auto& e = prompts[rows[i]].embeds;
      const int64_t T = e.size(0);
      embeds[i].narrow(0, longest - T, T).copy_(e);
      mask[i].narrow(0, longest - T, T).fill_(1);
    }
    ForwardOptions last;
    last.last_logits_only = true;
    if (tail == nullptr) {
      *first_logits = model_->forward(embeds, mask, &session->cache(), last).logits.squeeze(1);
      return session;
    }
    ForwardOptions read;
    read.return_hidden = true;
    read.skip_logits = true;
    const auto hidden = model_->forward(embeds, mask, &session->cache(), read).hidden;
    const auto rest = tail->make(hidden, mask, rows);
    if (!rest.defined() || rest.dim() != 3 || rest.size(0) != R || rest.size(1) != tail->length ||
        rest.size(2) != d) {
      throw InvalidArgument("generate: prompt tail must have shape (" + std::to_string(R) + ", " +
                            std::to_string(tail->length) + ", " + std::to_string(d) + ")");
    }
    *first_logits = model_
                        ->forward(rest.to(model_->dtype()), at::ones({R, tail->length}, at::kLong),
                                  &session->cache(), last)
                        .logits.squeeze(1);
    return session;
  }

  torch::Tensor target_cross_entropy(const std::vector<torch::Tensor>& prompts,
                                     const std::vector<std::vector<int>>& targets) const override {
    const auto B = static_cast<int64_t>(prompts.size());
    const int64_t d = model_->hidden_size();
    std::vector<int64_t> lengths(B);
    int64_t longest = 0;
    for (int64_t b = 0; b < B; ++b) {
      lengths[b] = prompts[b].size(0) + static_cast<int64_t>(targets[b].size());
      longest = std::max(longest, lengths[b]);
    }
    // Right-padded rows [prompt][target]: position p predicts token p + 1.
    std::vector<torch::Tensor> rows;
    auto mask = at::zeros({B, longest}, at::kLong);
    auto labels = at::full({B, longest}, -100, at::kLong);
    for (int64_t b = 0; b < B; ++b) {
      const auto target =
          at::tensor(std::vector<int64_t>(targets[b].begin(), targets[b].end()), at::kLong);
      const int64_t T = prompts[b].size(0);
      const int64_t n = target.numel();
      auto tok = model_->embed(target).to(at::kFloat);
      rows.push_back(at::cat(
          {prompts[b].to(at::kFloat), tok, at::zeros({longest - lengths[b], d}, at::kFloat)}, 0));
      mask[b].narrow(0, 0, lengths[b]).fill_(1);
      if (n > 0) labels[b].narrow(0, T - 1, n).copy_(target);
    }
    auto logits = model_->forward(at::stack(rows).to(model_->dtype()), mask).logits;
    return at::cross_entropy_loss(logits.reshape({-1, logits.size(-1)}), labels.view({-1}), {},
                                  at::Reduction::Sum, -100);
  }

  torch::Tensor text_states(const torch::Tensor& inputs_embeds,
                            const torch::Tensor& mask) const override {
    c10::InferenceMode guard;
    ForwardOptions options;
    options.return_hidden = true;
    options.skip_logits = true;
    return model_->forward(inputs_embeds, mask, nullptr, options).hidden;
  }

 private:
  std::shared_ptr<const LlamaModel> model_;
};

}  // namespace

std::shared_ptr<const LanguageModel> make_language_model(std::shared_ptr<const LlamaModel> model) {
  return std::make_shared<LlamaLanguageModel>(std::move(model));
}

}  // namespace pplug
