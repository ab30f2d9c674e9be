#include "generation/sampler.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>

#include "pplug/error.h"

namespace pplug::detail {

void validate_options(const GenerationOptions& o) {
  if (o.max_new_tokens <= 0) {
    throw InvalidArgument("max_new_tokens must be positive, got " +
                          std::to_string(o.max_new_tokens));
  }
  if (!(o.temperature >= 0.0f) || !std::isfinite(o.temperature)) {
    throw InvalidArgument("temperature must be >= 0, got " + std::to_string(o.temperature));
  }
  if (o.top_k < 0) throw InvalidArgument("top_k must be >= 0, got " + std::to_string(o.top_k));
  if (!(o.top_p > 0.0f && o.top_p <= 1.0f)) {
    throw InvalidArgument("top_p must be in (0, 1], got " + std::to_string(o.top_p));
  }
  if (o.num_beams < 1 || o.num_beams > kMaxNumBeams) {
    throw InvalidArgument("num_beams must be in [1, " + std::to_string(kMaxNumBeams) + "], got " +
                          std::to_string(o.num_beams));
  }
}

torch::Tensor pick_tokens(const torch::Tensor& logits, const GenerationOptions& o,
                          at::Generator& generator) {
  // Tiny temperatures are greedy: softmax(logits / T) tends to the argmax as T -> 0, and for
  // T ~ 1e-45 the division overflows to inf, whose softmax is NaN.
  if (o.temperature < kGreedyTemperature) return logits.argmax(-1);
  auto scaled = logits / o.temperature;  // (B, V)
  const double neg_inf = -std::numeric_limits<double>::infinity();
  if (o.top_k > 0 && o.top_k < scaled.size(-1)) {
    auto kth = std::get<0>(scaled.topk(o.top_k, -1)).narrow(-1, o.top_k - 1, 1);  // (B, 1)
    scaled = scaled.masked_fill(scaled < kth, neg_inf);
  }
  if (o.top_p < 1.0f) {
    auto sorted = scaled.sort(-1, /*descending=*/true);
    auto sorted_logits = std::get<0>(sorted), order = std::get<1>(sorted);
    auto cumulative = sorted_logits.softmax(-1).cumsum(-1);
    // Drop a token when the mass before it already reaches top_p (the first token always stays).
    auto drop_sorted = (cumulative - sorted_logits.softmax(-1)) >= o.top_p;
    auto drop = at::zeros_like(drop_sorted).scatter(-1, order, drop_sorted);
    scaled = scaled.masked_fill(drop, neg_inf);
  }
  auto probs = scaled.softmax(-1);
  return at::multinomial(probs, 1, /*replacement=*/false, generator).squeeze(-1);
}

}  // namespace pplug::detail
