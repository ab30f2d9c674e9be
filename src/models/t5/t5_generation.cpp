#include "pplug/t5_generation.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>

#include "pplug/error.h"

namespace pplug {

std::vector<std::vector<int64_t>> t5_generate_greedy(const T5Model& model,
                                                     const torch::Tensor& inputs_embeds,
                                                     const torch::Tensor& attention_mask,
                                                     const T5GenerationOptions& options) {
  if (options.max_new_tokens <= 0) {
    throw InvalidArgument("t5_generate_greedy: max_new_tokens must be positive, got " +
                          std::to_string(options.max_new_tokens));
  }
  at::NoGradGuard no_grad;
  const auto& c = model.config();
  const auto states = model.encode(inputs_embeds, attention_mask);  // (B, S, d)
  const int64_t B = states.size(0);
  T5DecoderCache cache(model, states, attention_mask, options.max_new_tokens);
  std::vector<std::vector<int64_t>> out(B);
  std::vector<bool> done(B, false);
  auto next = at::full({B, 1}, c.decoder_start_token_id, at::kLong);
  for (int64_t step = 0; step < options.max_new_tokens; ++step) {
    T5DecodeOptions decode_options;
    decode_options.last_logits_only = true;
    const auto logits = model.decode_step(model.embed(next), cache, decode_options).logits;
    // Finished rows keep decoding pad tokens (cheaper than shrinking the batch for a few
    // steps); their output is not extended.
    next = logits.select(1, 0).argmax(-1).unsqueeze(1).contiguous();  // (B, 1)
    auto* ids = next.data_ptr<int64_t>();
    bool all_done = true;
    for (int64_t b = 0; b < B; ++b) {
      if (done[b]) {
        ids[b] = c.pad_token_id;
        continue;
      }
      out[b].push_back(ids[b]);
      if (ids[b] == c.eos_token_id) done[b] = true;
      all_done = all_done && done[b];
    }
    if (all_done) break;
  }
  return out;
}

std::vector<std::vector<int64_t>> t5_generate_greedy(
    const T5Model& model, const std::vector<std::vector<int64_t>>& input_ids,
    const T5GenerationOptions& options) {
  if (input_ids.empty()) throw InvalidArgument("t5_generate_greedy: no input");
  int64_t S = 0;
  for (const auto& row : input_ids) S = std::max<int64_t>(S, static_cast<int64_t>(row.size()));
  if (S == 0) throw InvalidArgument("t5_generate_greedy: every input is empty");
  const int64_t B = static_cast<int64_t>(input_ids.size());
  auto ids = at::full({B, S}, model.config().pad_token_id, at::kLong);
  auto mask = at::zeros({B, S}, at::kLong);
  for (int64_t b = 0; b < B; ++b) {
    const auto n = static_cast<int64_t>(input_ids[b].size());
    if (n == 0) {
      throw InvalidArgument("t5_generate_greedy: input " + std::to_string(b) + " is empty");
    }
    ids[b].narrow(0, 0, n).copy_(
        at::tensor(at::ArrayRef<int64_t>(input_ids[b].data(), input_ids[b].size()), at::kLong));
    mask[b].narrow(0, 0, n).fill_(1);
  }
  return t5_generate_greedy(model, model.embed(ids), mask, options);
}

}  // namespace pplug
