// The frozen LLM as a sentence encoder: masked mean of the final hidden states.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <numeric>

#include "pplug/error.h"
#include "pplug/sentence_encoder.h"
#include "util/hash.h"

namespace pplug {
namespace {

class LlmEncoder final : public SentenceEncoder {
 public:
  LlmEncoder(std::shared_ptr<const LlamaModel> model, std::shared_ptr<const Tokenizer> tokenizer,
             LlmEncoderOptions options)
      : model_(std::move(model)), tokenizer_(std::move(tokenizer)), options_(options) {
    if (!model_ || !tokenizer_) throw InvalidArgument("LLM encoder needs a model and tokenizer");
    if (options_.max_tokens < 2 || options_.batch_size < 1) {
      throw InvalidArgument("LLM encoder: max_tokens must be >= 2 and batch_size >= 1");
    }
    options_.max_tokens = static_cast<int>(
        std::min<int64_t>(options_.max_tokens, model_->config().max_position_embeddings));
  }

  torch::Tensor encode(const std::vector<std::string>& texts, bool) const override {
    c10::InferenceMode guard;
    const int64_t d = model_->hidden_size();
    auto out = at::zeros({static_cast<int64_t>(texts.size()), d}, at::kFloat);
    std::vector<std::vector<int>> ids(texts.size());
    for (size_t i = 0; i < texts.size(); ++i) {
      ids[i] = tokenizer_->encode(texts[i], /*add_bos=*/true);
      if (static_cast<int>(ids[i].size()) > options_.max_tokens) ids[i].resize(options_.max_tokens);
    }
    // Similar lengths share a batch, so little padding is computed.
    std::vector<size_t> order(texts.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return ids[a].size() < ids[b].size(); });
    ForwardOptions fwd;
    fwd.return_hidden = true;
    fwd.skip_logits = true;
    for (size_t start = 0; start < order.size(); start += options_.batch_size) {
      const size_t end = std::min(order.size(), start + options_.batch_size);
      const int64_t B = static_cast<int64_t>(end - start);
      int64_t T = 0;
      for (size_t k = start; k < end; ++k) T = std::max<int64_t>(T, ids[order[k]].size());
      auto batch = at::zeros({B, T}, at::kLong);
      auto mask = at::zeros({B, T}, at::kLong);
      for (int64_t b = 0; b < B; ++b) {
        const auto& row = ids[order[start + b]];
        const int64_t n = static_cast<int64_t>(row.size());
        batch[b]
            .narrow(0, T - n, n)
            .copy_(at::tensor(std::vector<int64_t>(row.begin(), row.end())));
        mask[b].narrow(0, T - n, n).fill_(1);
      }
      auto hidden = model_->forward(model_->embed(batch), mask, nullptr, fwd).hidden;  // (B, T, d)
      torch::Tensor pooled;                                                            // (B, d)
      if (options_.pooling == LlmEncoderOptions::Pooling::kLast) {
        pooled = hidden.select(1, T - 1).to(at::kFloat);  // left padding: the last slot is real
      } else {
        auto m = mask.unsqueeze(-1).to(at::kFloat);
        pooled = (hidden.to(at::kFloat) * m).sum(1) / m.sum(1).clamp_min(1.0);
      }
      pooled = pooled / pooled.norm(2, -1, true).clamp_min(1e-12);
      for (int64_t b = 0; b < B; ++b) out[order[start + b]].copy_(pooled[b]);
    }
    return out;
  }

  int64_t dim() const override { return model_->hidden_size(); }
  std::string kind() const override { return "llm"; }
  std::string fingerprint() const override {
    detail::Hasher h;
    h.text(model_->fingerprint());
    h.u64(static_cast<uint64_t>(options_.max_tokens));
    h.u64(static_cast<uint64_t>(tokenizer_->vocab_size()));
    if (options_.pooling == LlmEncoderOptions::Pooling::kLast) h.text("last");
    return "llm-" + h.hex();
  }

 private:
  std::shared_ptr<const LlamaModel> model_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  LlmEncoderOptions options_;
};

}  // namespace

std::shared_ptr<SentenceEncoder> make_llm_encoder(std::shared_ptr<const LlamaModel> model,
                                                  std::shared_ptr<const Tokenizer> tokenizer,
                                                  LlmEncoderOptions options) {
  return std::make_shared<LlmEncoder>(std::move(model), std::move(tokenizer), options);
}

}  // namespace pplug
