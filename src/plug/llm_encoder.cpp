// The frozen LLM as a sentence encoder: pooled final hidden states (mean or last token).
#include <algorithm>

#include "generation/framed_prompt.h"
#include "plug/llm_pooling.h"
#include "pplug/error.h"
#include "pplug/sentence_encoder.h"
#include "util/hash.h"

namespace pplug {
namespace {

class LlmEncoder final : public SentenceEncoder {
 public:
  LlmEncoder(std::shared_ptr<const LanguageModel> model, std::shared_ptr<const Tokenizer> tokenizer,
             LlmEncoderOptions options)
      : model_(std::move(model)), tokenizer_(std::move(tokenizer)), options_(options) {
    if (!model_ || !tokenizer_) throw InvalidArgument("LLM encoder needs a model and tokenizer");
    frame_ =
        model_->prompt_start_ids(*tokenizer_).size() + model_->prompt_end_ids(*tokenizer_).size();
    const auto frame = static_cast<int>(frame_);
    if (options_.max_tokens < frame + 1 || options_.batch_size < 1) {
      throw InvalidArgument("LLM encoder: max_tokens must be >= " + std::to_string(frame + 1) +
                            " and batch_size >= 1");
    }
    options_.max_tokens = static_cast<int>(max_tokens(options_.max_tokens));
  }

  torch::Tensor encode(const std::vector<std::string>& texts, bool as_query) const override {
    const auto pooling = as_query ? query_pooling() : options_.pooling;
    return detail::encode_token_ids(*model_, token_ids(texts), pooling, options_.batch_size);
  }

  ItemVectors encode_items(const std::vector<std::string>& texts) const override {
    if (!options_.key_pooling) return {encode(texts, /*as_query=*/false), {}};
    auto both = detail::encode_token_ids(
        *model_, token_ids(texts), {options_.pooling, *options_.key_pooling}, options_.batch_size);
    return {both[0], both[1]};
  }

  std::optional<LlmEncoderOptions::Pooling> pooling_over(
      const LanguageModel& model) const override {
    if (&model != model_.get() && model.fingerprint() != model_->fingerprint()) return std::nullopt;
    return query_pooling();
  }

  std::string spec() const override {
    const LlmEncoderOptions defaults;
    if (options_.batch_size != defaults.batch_size ||
        options_.max_tokens != max_tokens(defaults.max_tokens)) {
      return "";
    }
    auto name = [](LlmEncoderOptions::Pooling p) {
      return p == LlmEncoderOptions::Pooling::kLast ? "last" : "mean";
    };
    std::string s = "llm:" + std::string(name(options_.pooling));
    if (options_.key_pooling) s += "/" + std::string(name(*options_.key_pooling));
    return s;
  }

  int64_t dim() const override { return model_->hidden_size(); }
  std::string kind() const override { return "llm"; }
  std::string fingerprint() const override {
    detail::Hasher h;
    h.text(model_->fingerprint());
    h.u64(static_cast<uint64_t>(options_.max_tokens));
    h.u64(static_cast<uint64_t>(tokenizer_->vocab_size()));
    if (options_.pooling == LlmEncoderOptions::Pooling::kLast) h.text("last");
    if (options_.key_pooling) {
      h.text(*options_.key_pooling == LlmEncoderOptions::Pooling::kLast ? "keys:last"
                                                                        : "keys:mean");
    }
    return "llm-" + h.hex();
  }

 private:
  // Queries live in the key space when items have keys.
  LlmEncoderOptions::Pooling query_pooling() const {
    return options_.key_pooling.value_or(options_.pooling);
  }

  // `wanted` tokens per text, capped by the model's context.
  int64_t max_tokens(int64_t wanted) const {
    const int64_t context = model_->max_positions();
    return context > 0 ? std::min(wanted, context) : wanted;
  }

  // Each text framed as the model frames a prompt; long texts keep their beginning.
  std::vector<std::vector<int>> token_ids(const std::vector<std::string>& texts) const {
    const auto room = static_cast<size_t>(options_.max_tokens) - frame_;
    std::vector<std::vector<int>> ids(texts.size());
    for (size_t i = 0; i < texts.size(); ++i) {
      auto text = tokenizer_->encode(texts[i]);
      if (text.size() > room) text.resize(room);
      ids[i] = detail::framed_prompt(*model_, *tokenizer_, text);
    }
    return ids;
  }

  std::shared_ptr<const LanguageModel> model_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  LlmEncoderOptions options_;
  size_t frame_ = 0;  // ids the model's framing adds to every text ([BOS], T5's </s>)
};

}  // namespace

std::shared_ptr<SentenceEncoder> make_llm_encoder(std::shared_ptr<const LanguageModel> model,
                                                  std::shared_ptr<const Tokenizer> tokenizer,
                                                  LlmEncoderOptions options) {
  return std::make_shared<LlmEncoder>(std::move(model), std::move(tokenizer), options);
}

std::shared_ptr<SentenceEncoder> make_llm_encoder(std::shared_ptr<const LlamaModel> model,
                                                  std::shared_ptr<const Tokenizer> tokenizer,
                                                  LlmEncoderOptions options) {
  if (!model) throw InvalidArgument("LLM encoder needs a model and tokenizer");
  return make_llm_encoder(make_language_model(std::move(model)), std::move(tokenizer), options);
}

}  // namespace pplug
