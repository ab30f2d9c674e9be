// A BERT-family encoder behind the SentenceEncoder interface.
#include <torch/nn/module.h>

#include "models/tensor_fingerprint.h"
#include "pplug/error.h"
#include "pplug/sentence_encoder.h"

namespace pplug {
namespace {

class BertSentenceEncoder final : public SentenceEncoder {
 public:
  explicit BertSentenceEncoder(std::shared_ptr<BertEncoder> encoder)
      : encoder_(std::move(encoder)) {
    if (!encoder_) throw InvalidArgument("make_bert_encoder: null encoder");
    std::vector<std::pair<std::string, torch::Tensor>> named;
    for (const auto& item : encoder_->module().named_parameters()) {
      named.emplace_back(item.key(), item.value());
    }
    fingerprint_ = "bert-" + detail::fingerprint_tensors(named, "bert");
  }
  torch::Tensor encode(const std::vector<std::string>& texts, bool as_query) const override {
    auto out = encoder_->encode(texts, as_query);
    // Cosine similarity needs unit vectors even when the encoder is configured not to normalise.
    return out / out.norm(2, -1, true).clamp_min(1e-12);
  }
  int64_t dim() const override { return encoder_->dim(); }
  std::string kind() const override { return "bert"; }
  std::string fingerprint() const override { return fingerprint_; }
  std::shared_ptr<const BertEncoder> bert() const override { return encoder_; }

 private:
  std::shared_ptr<BertEncoder> encoder_;
  std::string fingerprint_;
};

}  // namespace

std::shared_ptr<SentenceEncoder> make_bert_encoder(std::shared_ptr<BertEncoder> encoder) {
  return std::make_shared<BertSentenceEncoder>(std::move(encoder));
}

}  // namespace pplug
