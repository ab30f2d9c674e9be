// BertEncoder: the public facade over BertModel, WordPiece and pooling.
#include <ATen/ATen.h>
#include <torch/utils.h>

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <optional>

#include "format/bert_config.h"
#include "models/bert/bert_folder.h"
#include "models/bert/bert_model.h"
#include "pplug/error.h"
#include "pplug/safetensors.h"
#include "pplug/text_encoder.h"
#include "pplug/wordpiece.h"

namespace pplug {

namespace fs = std::filesystem;

struct BertEncoder::Impl {
  TextEncoderOptions options;
  int max_length = 0;  // options.max_length capped by max_position_embeddings
  bert::BertModel model{nullptr};
  std::optional<WordPieceTokenizer> tokenizer;

  // [CLS] ... [SEP] ids of one text.
  std::vector<int> ids_of(const std::string& text, bool as_query) const {
    return tokenizer->encode_for_model(as_query ? options.query_instruction + text : text,
                                       max_length);
  }
  // Right-pads `rows` into a batch.
  TokenBatch pad(const std::vector<const std::vector<int>*>& rows) const;
};

TokenBatch BertEncoder::Impl::pad(const std::vector<const std::vector<int>*>& rows) const {
  size_t longest = 0;
  for (const auto* row : rows) longest = std::max(longest, row->size());
  const auto b = static_cast<int64_t>(rows.size());
  const auto t = static_cast<int64_t>(longest);
  TokenBatch batch;
  batch.ids = at::full({b, t}, tokenizer->pad_id(), at::kLong);  // (B, T)
  batch.attention_mask = at::zeros({b, t}, at::kLong);           // (B, T)
  auto ids = batch.ids.accessor<int64_t, 2>();
  auto mask = batch.attention_mask.accessor<int64_t, 2>();
  for (int64_t i = 0; i < b; ++i) {
    const std::vector<int>& row = *rows[static_cast<size_t>(i)];
    for (size_t j = 0; j < row.size(); ++j) {
      ids[i][static_cast<int64_t>(j)] = row[j];
      mask[i][static_cast<int64_t>(j)] = 1;
    }
  }
  return batch;
}

BertEncoder::BertEncoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BertEncoder::~BertEncoder() = default;

std::shared_ptr<BertEncoder> BertEncoder::load(const std::string& dir, TextEncoderOptions options) {
  if (options.max_length < 2) {
    throw InvalidArgument("BertEncoder: max_length must be >= 2, got " +
                          std::to_string(options.max_length));
  }
  if (options.batch_size < 1) {
    throw InvalidArgument("BertEncoder: batch_size must be >= 1, got " +
                          std::to_string(options.batch_size));
  }
  const fs::path root(dir);
  const bert::BertConfig config = bert::load_bert_config((root / "config.json").string());
  const std::string vocab_path = (root / "vocab.txt").string();
  WordPieceTokenizer tokenizer(vocab_path, bert::read_do_lower_case(dir));
  if (tokenizer.vocab_size() > config.vocab_size) {
    throw MismatchError(vocab_path + " has " + std::to_string(tokenizer.vocab_size()) +
                        " tokens but " + (root / "config.json").string() + " has vocab_size " +
                        std::to_string(config.vocab_size));
  }
  const std::string weights_path = (root / "model.safetensors").string();
  if (!fs::exists(weights_path)) {
    throw FormatError(weights_path + ": not found (BERT weights are read from safetensors only)");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->max_length =
      static_cast<int>(std::min<int64_t>(impl->options.max_length, config.max_position_embeddings));
  impl->tokenizer.emplace(std::move(tokenizer));
  impl->model = bert::BertModel(config);
  bert::load_bert_weights(*impl->model, SafetensorsFile(weights_path));
  std::shared_ptr<BertEncoder> encoder(new BertEncoder(std::move(impl)));
  encoder->set_trainable(false);
  return encoder;
}

TokenBatch BertEncoder::tokenize(const std::vector<std::string>& texts, bool as_query) const {
  std::vector<std::vector<int>> ids;
  ids.reserve(texts.size());
  for (const std::string& text : texts) ids.push_back(impl_->ids_of(text, as_query));
  std::vector<const std::vector<int>*> rows;
  rows.reserve(ids.size());
  for (const auto& row : ids) rows.push_back(&row);
  return impl_->pad(rows);
}

torch::Tensor BertEncoder::forward(const TokenBatch& batch) const {
  const at::Device device = impl_->model->parameters().front().device();
  const torch::Tensor mask = batch.attention_mask.to(device);
  const torch::Tensor hidden = impl_->model->forward(batch.ids.to(device), mask);  // (B, T, H)
  torch::Tensor pooled = impl_->options.pooling == TextEncoderOptions::Pooling::kCls
                             ? bert::cls_pool(hidden)
                             : bert::mean_pool(hidden, mask);  // (B, H)
  if (impl_->options.normalize) {
    pooled = pooled / pooled.norm(2, {-1}, /*keepdim=*/true).clamp_min(1e-12);
  }
  return pooled;
}

torch::Tensor BertEncoder::encode(const std::vector<std::string>& texts, bool as_query) const {
  torch::NoGradGuard no_grad;
  const auto n = static_cast<int64_t>(texts.size());
  std::vector<std::vector<int>> ids;
  ids.reserve(texts.size());
  for (const std::string& text : texts) ids.push_back(impl_->ids_of(text, as_query));
  // Longest first, so each batch pads to nearly its own length.
  std::vector<size_t> order(texts.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return ids[a].size() > ids[b].size(); });

  torch::Tensor out;  // (N, H)
  const auto batch_size = static_cast<size_t>(impl_->options.batch_size);
  for (size_t start = 0; start < order.size(); start += batch_size) {
    const size_t end = std::min(order.size(), start + batch_size);
    std::vector<const std::vector<int>*> rows;
    std::vector<int64_t> positions;
    for (size_t k = start; k < end; ++k) {
      rows.push_back(&ids[order[k]]);
      positions.push_back(static_cast<int64_t>(order[k]));
    }
    const torch::Tensor pooled = forward(impl_->pad(rows)).to(at::kFloat);  // (b, H)
    if (!out.defined()) out = at::empty({n, pooled.size(1)}, pooled.options());
    out.index_copy_(0, at::tensor(positions, at::kLong).to(out.device()), pooled);
  }
  if (!out.defined()) out = at::empty({0, dim()}, at::kFloat);
  return out;
}

int64_t BertEncoder::dim() const { return impl_->model->config().hidden_size; }

const TextEncoderOptions& BertEncoder::options() const { return impl_->options; }

const WordPieceTokenizer& BertEncoder::tokenizer() const { return *impl_->tokenizer; }

torch::nn::Module& BertEncoder::module() { return *impl_->model; }

std::shared_ptr<torch::nn::Module> BertEncoder::shared_module() { return impl_->model.ptr(); }

std::shared_ptr<BertEncoder> BertEncoder::copy() const {
  auto impl = std::make_unique<Impl>();
  impl->options = impl_->options;
  impl->max_length = impl_->max_length;
  impl->tokenizer = impl_->tokenizer;
  impl->model = bert::BertModel(impl_->model->config());
  {
    torch::NoGradGuard no_grad;
    auto source = impl_->model->named_parameters();
    for (auto& p : impl->model->named_parameters()) p.value().copy_(source[p.key()]);
    auto buffers = impl_->model->named_buffers();
    for (auto& b : impl->model->named_buffers()) b.value().copy_(buffers[b.key()]);
  }
  std::shared_ptr<BertEncoder> encoder(new BertEncoder(std::move(impl)));
  encoder->set_trainable(false);
  return encoder;
}

void BertEncoder::set_trainable(bool trainable) {
  for (torch::Tensor& param : impl_->model->parameters()) param.set_requires_grad(trainable);
  impl_->model->train(trainable);
}

void BertEncoder::save(const std::string& dir) const {
  bert::write_bert_folder(dir, *impl_->model, impl_->tokenizer->path(),
                          impl_->tokenizer->lowercase());
}

}  // namespace pplug
