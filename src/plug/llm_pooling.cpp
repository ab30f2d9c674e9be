#include "plug/llm_pooling.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <numeric>

namespace pplug::detail {

torch::Tensor pool_hidden(const torch::Tensor& hidden, const torch::Tensor& mask,
                          LlmEncoderOptions::Pooling pooling) {
  torch::Tensor pooled;
  if (pooling == LlmEncoderOptions::Pooling::kLast) {
    pooled = hidden.select(1, hidden.size(1) - 1).to(at::kFloat);  // left padding: last is real
  } else {
    auto m = mask.unsqueeze(-1).to(at::kFloat);
    pooled = (hidden.to(at::kFloat) * m).sum(1) / m.sum(1).clamp_min(1.0);
  }
  return pooled / pooled.norm(2, -1, true).clamp_min(1e-12);
}

torch::Tensor encode_token_ids(const LanguageModel& model, const std::vector<std::vector<int>>& ids,
                               LlmEncoderOptions::Pooling pooling, int batch_size) {
  return encode_token_ids(model, ids, std::vector<LlmEncoderOptions::Pooling>{pooling}, batch_size)
      .front();
}

std::vector<torch::Tensor> encode_token_ids(const LanguageModel& model,
                                            const std::vector<std::vector<int>>& ids,
                                            const std::vector<LlmEncoderOptions::Pooling>& poolings,
                                            int batch_size) {
  c10::InferenceMode guard;
  std::vector<torch::Tensor> out;
  for (size_t p = 0; p < poolings.size(); ++p) {
    out.push_back(at::zeros({static_cast<int64_t>(ids.size()), model.hidden_size()}, at::kFloat));
  }
  // Similar lengths share a batch, so little padding is computed.
  std::vector<size_t> order(ids.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return ids[a].size() < ids[b].size(); });
  for (size_t start = 0; start < order.size(); start += batch_size) {
    const size_t end = std::min(order.size(), start + batch_size);
    const auto B = static_cast<int64_t>(end - start);
    int64_t T = 0;
    for (size_t k = start; k < end; ++k) T = std::max<int64_t>(T, ids[order[k]].size());
    auto batch = at::zeros({B, T}, at::kLong);
    auto mask = at::zeros({B, T}, at::kLong);
    for (int64_t b = 0; b < B; ++b) {
      const auto& row = ids[order[start + b]];
      const auto n = static_cast<int64_t>(row.size());
      batch[b].narrow(0, T - n, n).copy_(at::tensor(std::vector<int64_t>(row.begin(), row.end())));
      mask[b].narrow(0, T - n, n).fill_(1);
    }
    auto hidden = model.text_states(model.embed(batch), mask);  // (B, T, d)
    for (size_t p = 0; p < poolings.size(); ++p) {
      auto pooled = pool_hidden(hidden, mask, poolings[p]);
      for (int64_t b = 0; b < B; ++b) out[p][order[start + b]].copy_(pooled[b]);
    }
  }
  return out;
}

}  // namespace pplug::detail
