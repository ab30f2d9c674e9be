// Rank classification: the log-probability of each label after a prompt.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "pplug/error.h"
#include "pplug/generation.h"

namespace pplug {

std::vector<std::vector<double>> Generator::score_candidates(
    const std::vector<EmbeddedPrompt>& prompts,
    const std::vector<std::vector<int>>& candidates) const {
  return score_candidates(prompts, candidates, PromptTail{});
}

std::vector<std::vector<double>> Generator::score_candidates(
    const std::vector<EmbeddedPrompt>& prompts, const std::vector<std::vector<int>>& candidates,
    const PromptTail& tail) const {
  const PromptTail* tail_ptr = tail.make ? &tail : nullptr;
  if (tail_ptr != nullptr && tail.length < 1) {
    throw InvalidArgument("score_candidates: a prompt tail needs length >= 1");
  }
  const int64_t extra = tail_ptr != nullptr ? tail.length : 0;
  validate_prompts(prompts, extra);
  if (candidates.empty()) throw InvalidArgument("score_candidates: no candidates");
  int64_t longest = 0;
  for (size_t c = 0; c < candidates.size(); ++c) {
    if (candidates[c].empty()) {
      throw InvalidArgument("score_candidates: candidate " + std::to_string(c) + " is empty");
    }
    longest = std::max<int64_t>(longest, candidates[c].size());
  }
  c10::InferenceMode guard;
  const auto C = static_cast<int64_t>(candidates.size());
  // Candidates are right-padded: a real token never attends to the padding after it.
  auto ids = at::zeros({C, longest}, at::kLong);
  auto mask = at::zeros({C, longest}, at::kLong);
  for (int64_t c = 0; c < C; ++c) {
    const auto n = static_cast<int64_t>(candidates[c].size());
    ids[c].narrow(0, 0, n).copy_(
        at::tensor(std::vector<int64_t>(candidates[c].begin(), candidates[c].end()), at::kLong));
    mask[c].narrow(0, 0, n).fill_(1);
  }
  std::vector<std::vector<double>> out;
  out.reserve(prompts.size());
  for (size_t p = 0; p < prompts.size(); ++p) {
    torch::Tensor first;  // (1, V): predicts each candidate's first token
    auto session = model_->start(prompts, {p}, longest, tail_ptr, &first);
    if (session->room() < longest) {
      throw InvalidArgument(
          "score_candidates: prompt of " + std::to_string(prompts[p].embeds.size(0) + extra) +
          " positions plus candidates of " + std::to_string(longest) +
          " tokens exceed the model's context of " + std::to_string(model_->max_positions()));
    }
    first = first.log_softmax(-1);
    session->reorder(at::zeros({C}, at::kLong));
    auto rest = session->feed(ids, /*last_only=*/false).log_softmax(-1);  // (C, L, V)
    // Token t of a candidate is predicted by the prompt (t = 0) or by its token t - 1.
    auto predictors =
        at::cat({first.expand({C, 1, first.size(-1)}), rest.narrow(1, 0, longest - 1)}, 1);
    auto token_lp = predictors.gather(-1, ids.unsqueeze(-1)).squeeze(-1) * mask.to(at::kFloat);
    auto totals = token_lp.sum(1).to(at::kDouble).contiguous();
    out.emplace_back(totals.data_ptr<double>(), totals.data_ptr<double>() + C);
  }
  return out;
}

}  // namespace pplug
