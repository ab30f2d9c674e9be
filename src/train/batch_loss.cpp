#include "train/batch_loss.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <chrono>
#include <numeric>
#include <string>

#include "plug/plugin_module.h"
#include "plug/plugin_training.h"
#include "util/log.h"

namespace pplug::detail {
namespace {

// Questions whose prefixes are run through the frozen LLM together while they are stored:
// sorted by length, so a batch pads little.
constexpr size_t kPrefixBatch = 16;

}  // namespace

torch::Tensor soft_tokens(PluginModuleImpl& module, const TrainData& data,
                          const std::vector<const TrainExample*>& batch) {
  const auto B = static_cast<int64_t>(batch.size());
  const int64_t de = module.config().encoder_dim;
  int64_t n_items = 1;
  for (const auto* ex : batch) n_items = std::max<int64_t>(n_items, ex->items.size());
  auto item_index = at::zeros({B, n_items}, at::kLong);
  auto item_mask = at::zeros({B, n_items}, at::kBool);
  auto query_index = at::zeros({B}, at::kLong);
  for (int64_t b = 0; b < B; ++b) {
    const auto& items = batch[b]->items;
    if (!items.empty()) {
      item_index[b].narrow(0, 0, items.size()).copy_(at::tensor(items, at::kLong));
      item_mask[b].narrow(0, 0, items.size()).fill_(true);
    }
    query_index[b] = batch[b]->query;
  }
  auto items = data.item_vectors.numel() > 0
                   ? data.item_vectors.index_select(0, item_index.view({-1})).view({B, n_items, de})
                   : at::zeros({B, n_items, de});
  auto projections = module.project_items(items);  // (B, N, n_p d)
  // The aggregator compares the input with the items' keys (the items themselves without keys).
  auto keys = data.item_keys.defined()
                  ? data.item_keys.index_select(0, item_index.view({-1})).view({B, n_items, de})
                  : items;
  torch::Tensor query;  // (B, d_e)
  if (const auto& copy = module.input_encoder_copy()) {
    // The trainable input encoder runs with gradients on this batch's inputs.
    std::vector<std::string> texts;
    for (const auto* ex : batch) texts.push_back(data.query_texts[ex->query]);
    query = copy->forward(copy->tokenize(texts, /*as_query=*/true));
    query = query / query.norm(2, -1, true).clamp_min(1e-12);
  } else {
    query = data.query_vectors.index_select(0, query_index);
  }
  return module.forward(keys, projections, item_mask, query).tokens;
}

FrozenPrefixes::FrozenPrefixes(const PersonaPlug& plug, const TrainData& data, size_t budget_bytes)
    : plug_(plug),
      start_ids_(plug.language_model().prompt_start_ids(*plug.llm().tokenizer)),
      start_(static_cast<int64_t>(start_ids_.size())) {
  const LlamaModel* llm = plug.language_model().decoder_only();
  if (llm == nullptr) return;  // an encoder-decoder reads the whole prompt with the soft tokens
  const auto& c = llm->config();
  const size_t per_token = static_cast<size_t>(c.num_hidden_layers) * 2 *
                           static_cast<size_t>(c.num_key_value_heads * c.head_dim()) *
                           at::elementSize(llm->dtype());
  // One example per question (history-dropout copies share their original's prompt).
  int64_t last_query = -1;
  for (const auto& ex : data.examples) last_query = std::max(last_query, ex.query);
  std::vector<const TrainExample*> first_of(static_cast<size_t>(last_query + 1), nullptr);
  for (const auto& ex : data.examples) {
    if (!ex.local) continue;  // another rank's question
    auto& first = first_of[static_cast<size_t>(ex.query)];
    if (first == nullptr) {
      first = &ex;
      bytes_ += per_token * static_cast<size_t>(length(ex));
    }
  }
  const size_t questions = first_of.size();
  if (budget_bytes == 0 || bytes_ > budget_bytes) {
    if (budget_bytes > 0) {
      PPLUG_LOG_INFO(
          "prompt prefixes take {:.1f} MB, over the {:.0f} MB budget: recomputed per "
          "step",
          bytes_ / 1e6, budget_bytes / 1e6);
    }
    return;
  }
  const auto start_time = std::chrono::steady_clock::now();
  std::vector<size_t> order;
  for (size_t q = 0; q < questions; ++q) {
    if (first_of[q] != nullptr) order.push_back(q);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return length(*first_of[a]) < length(*first_of[b]); });
  stored_.resize(questions);
  for (size_t start = 0; start < order.size(); start += kPrefixBatch) {
    std::vector<const TrainExample*> chunk;
    for (size_t i = start; i < std::min(order.size(), start + kPrefixBatch); ++i) {
      chunk.push_back(first_of[order[i]]);
    }
    const KVCache cache = run(chunk, 0);
    for (size_t r = 0; r < chunk.size(); ++r) {
      stored_[static_cast<size_t>(chunk[r]->query)] = cache.extract_row(static_cast<int64_t>(r));
    }
  }
  PPLUG_LOG_INFO(
      "kept the frozen keys and values of {} prompt prefixes ({:.1f} MB, computed in {:.1f} s)",
      order.size(), bytes_ / 1e6,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count());
}

int64_t FrozenPrefixes::length(const TrainExample& ex) const {
  return detail::PluginTraining::soft_token_offset(plug_, ex.prompt.size());
}

std::vector<int64_t> FrozenPrefixes::prefix_ids(const TrainExample& ex) const {
  std::vector<int64_t> ids(start_ids_.begin(), start_ids_.end());
  ids.insert(ids.end(), ex.prompt.begin(), ex.prompt.begin() + prompt_tokens(ex));
  return ids;
}

KVCache FrozenPrefixes::run(const std::vector<const TrainExample*>& batch, int64_t extra) const {
  const LlamaModel& llm = *plug_.language_model().decoder_only();
  const auto B = static_cast<int64_t>(batch.size());
  int64_t longest = 0;
  for (const auto* ex : batch) longest = std::max(longest, length(*ex));
  auto ids = at::zeros({B, longest}, at::kLong);
  auto mask = at::zeros({B, longest}, at::kLong);
  for (int64_t b = 0; b < B; ++b) {
    const auto row = prefix_ids(*batch[b]);
    const auto n = static_cast<int64_t>(row.size());
    ids[b].narrow(0, longest - n, n).copy_(at::tensor(row, at::kLong));
    mask[b].narrow(0, longest - n, n).fill_(1);
  }
  at::NoGradGuard no_grad;
  KVCache cache(llm, B, longest + extra);
  ForwardOptions options;
  options.skip_logits = true;
  llm.forward(llm.embed(ids), mask, &cache, options);
  return cache;
}

KVCache FrozenPrefixes::batch_cache(const std::vector<const TrainExample*>& batch,
                                    int64_t extra) const {
  if (stored_.empty()) return run(batch, extra);
  std::vector<const CachedPrefix*> rows;
  for (const auto* ex : batch) rows.push_back(&stored_.at(static_cast<size_t>(ex->query)));
  return KVCache(*plug_.language_model().decoder_only(), rows, extra);
}

torch::Tensor batch_loss(const PersonaPlug& plug, PluginModuleImpl& module, const TrainData& data,
                         const FrozenPrefixes& prefixes,
                         const std::vector<const TrainExample*>& batch, int64_t target_tokens) {
  const auto B = static_cast<int64_t>(batch.size());
  auto soft = soft_tokens(module, data, batch);  // (B, S, d)
  int64_t own_tokens = 0;
  for (const auto* ex : batch) own_tokens += static_cast<int64_t>(ex->target.size());
  const double denominator = static_cast<double>(target_tokens > 0 ? target_tokens : own_tokens);
  const LlamaModel* causal = plug.language_model().decoder_only();
  if (causal == nullptr) {
    std::vector<torch::Tensor> prompts;
    std::vector<std::vector<int>> targets;
    for (int64_t b = 0; b < B; ++b) {
      prompts.push_back(detail::PluginTraining::build_prefix(plug, soft[b], batch[b]->prompt));
      targets.push_back(batch[b]->target);
    }
    return plug.language_model().target_cross_entropy(prompts, targets) / denominator;
  }
  const LlamaModel& llm = *causal;
  const int64_t d = llm.hidden_size();
  const int64_t n_soft = soft.size(1);

  // Right-padded rows [soft][prompt rest][target] after the cached prefixes; position p
  // predicts token p + 1, so the prompt's last token predicts the target's first.
  std::vector<int64_t> lengths(B);
  int64_t longest = 0;
  for (int64_t b = 0; b < B; ++b) {
    const auto* ex = batch[b];
    const int64_t rest = static_cast<int64_t>(ex->prompt.size()) - prefixes.prompt_tokens(*ex);
    lengths[b] = n_soft + rest + static_cast<int64_t>(ex->target.size());
    longest = std::max(longest, lengths[b]);
  }
  std::vector<torch::Tensor> rows;
  auto mask = at::zeros({B, longest}, at::kLong);
  auto labels = at::full({B, longest}, -100, at::kLong);
  for (int64_t b = 0; b < B; ++b) {
    const auto* ex = batch[b];
    std::vector<int64_t> ids(ex->prompt.begin() + prefixes.prompt_tokens(*ex), ex->prompt.end());
    const auto rest = static_cast<int64_t>(ids.size());
    ids.insert(ids.end(), ex->target.begin(), ex->target.end());
    auto tok = llm.embed(at::tensor(ids, at::kLong)).to(at::kFloat);  // (rest + T, d)
    rows.push_back(at::cat({soft[b], tok, at::zeros({longest - lengths[b], d})}, 0));
    mask[b].narrow(0, 0, lengths[b]).fill_(1);
    labels[b]
        .narrow(0, n_soft + rest - 1, ex->target.size())
        .copy_(at::tensor(std::vector<int64_t>(ex->target.begin(), ex->target.end()), at::kLong));
  }
  KVCache cache = prefixes.batch_cache(batch, longest);
  auto logits = llm.forward(at::stack(rows), mask, &cache).logits;  // (B, L, V)
  const auto summed = at::cross_entropy_loss(logits.view({-1, logits.size(-1)}), labels.view({-1}),
                                             {}, at::Reduction::Sum, -100);
  return summed / denominator;
}

}  // namespace pplug::detail
