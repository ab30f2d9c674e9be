#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "generation/id_prompts.h"
#include "generation/sampler.h"
#include "generation/text_stream.h"
#include "pplug/error.h"
#include "pplug/generation.h"

namespace pplug {

const char* to_string(FinishReason reason) {
  switch (reason) {
    case FinishReason::kLength:
      return "length";
    case FinishReason::kEos:
      return "eos";
    case FinishReason::kStopString:
      return "stop_string";
    case FinishReason::kCallback:
      return "callback";
  }
  return "unknown";
}

Generator::Generator(std::shared_ptr<const LanguageModel> model,
                     std::shared_ptr<const Tokenizer> tokenizer)
    : model_(std::move(model)), tokenizer_(std::move(tokenizer)) {
  if (!model_ || !tokenizer_) throw InvalidArgument("Generator needs a model and a tokenizer");
  // The embedding may have more rows than the tokenizer has pieces (T5's sentinels; Qwen and
  // Phi-3 pad theirs to a round size), never fewer: the extra rows are never sampled
  // (mask_unknown).
  if (tokenizer_->vocab_size() > model_->vocab_size()) {
    throw MismatchError(
        tokenizer_->path() + ": tokenizer has " + std::to_string(tokenizer_->vocab_size()) +
        " pieces, the model's vocab_size is " + std::to_string(model_->vocab_size()));
  }
}

Generator::Generator(std::shared_ptr<const LlamaModel> model,
                     std::shared_ptr<const Tokenizer> tokenizer)
    : Generator(model ? make_language_model(std::move(model)) : nullptr, std::move(tokenizer)) {}

std::vector<GenerationResult> Generator::generate(const std::vector<std::string>& prompts,
                                                  const GenerationOptions& options) const {
  return generate_ids(detail::framed_prompts(*model_, *tokenizer_, prompts), options);
}

GenerationResult Generator::generate(const std::string& prompt,
                                     const GenerationOptions& options) const {
  return generate(std::vector<std::string>{prompt}, options).front();
}

std::vector<GenerationResult> Generator::generate_ids(const std::vector<std::vector<int>>& prompts,
                                                      const GenerationOptions& options) const {
  c10::InferenceMode guard;
  auto results = generate_embedded(detail::embedded_id_prompts(*model_, prompts), options);
  for (size_t i = 0; i < results.size(); ++i) results[i].prompt_ids = prompts[i];
  return results;
}

void Generator::validate_prompts(const std::vector<EmbeddedPrompt>& prompts, int64_t extra) const {
  for (size_t i = 0; i < prompts.size(); ++i) {
    const auto& e = prompts[i].embeds;
    if (!e.defined() || e.dim() != 2 || e.size(1) != model_->hidden_size() || e.size(0) == 0) {
      throw InvalidArgument("generate: prompt " + std::to_string(i) +
                            " embeddings must have shape (T > 0, " +
                            std::to_string(model_->hidden_size()) + ")");
    }
    if (model_->max_positions() > 0 && e.size(0) + extra >= model_->max_positions()) {
      throw InvalidArgument(
          "generate: prompt " + std::to_string(i) + " has " + std::to_string(e.size(0) + extra) +
          " positions; the model allows fewer than " + std::to_string(model_->max_positions()));
    }
  }
}

std::unique_ptr<DecodingSession> Generator::start(const std::vector<EmbeddedPrompt>& prompts,
                                                  const std::vector<size_t>& rows,
                                                  int64_t continuation, const PromptTail* tail,
                                                  torch::Tensor* first) const {
  auto session = model_->start(prompts, rows, continuation, tail, first);
  *first = mask_unknown(*first);
  return session;
}

torch::Tensor Generator::mask_unknown(torch::Tensor logits) const {
  const int64_t pieces = tokenizer_->vocab_size();
  const int64_t V = logits.size(-1);
  if (pieces < V) {
    logits = logits.clone();
    logits.narrow(-1, pieces, V - pieces).fill_(-std::numeric_limits<float>::infinity());
  }
  return logits;
}

int Generator::anchor(const EmbeddedPrompt& prompt) const {
  return model_->is_encoder_decoder() ? -1 : prompt.anchor_id;
}

std::vector<GenerationResult> Generator::generate_embedded(
    const std::vector<EmbeddedPrompt>& prompts, const GenerationOptions& options) const {
  return run(prompts, options, nullptr);
}

std::vector<GenerationResult> Generator::generate_embedded(const std::vector<EmbeddedPrompt>& heads,
                                                           const GenerationOptions& options,
                                                           const PromptTail& tail) const {
  if (tail.length < 1 || !tail.make) {
    throw InvalidArgument("generate: a prompt tail needs length >= 1 and a make function");
  }
  return run(heads, options, &tail);
}

std::vector<GenerationResult> Generator::run(const std::vector<EmbeddedPrompt>& prompts,
                                             const GenerationOptions& options,
                                             const PromptTail* tail) const {
  detail::validate_options(options);
  validate_prompts(prompts, tail != nullptr ? tail->length : 0);
  if (prompts.empty()) return {};
  c10::InferenceMode guard;
  if (options.num_beams > 1) {
    std::vector<GenerationResult> out;
    out.reserve(prompts.size());
    for (size_t i = 0; i < prompts.size(); ++i) {
      out.push_back(beam_search(prompts, i, options, tail));
    }
    return out;
  }
  return sample_batch(prompts, options, tail);
}

std::vector<GenerationResult> Generator::sample_batch(const std::vector<EmbeddedPrompt>& prompts,
                                                      const GenerationOptions& options,
                                                      const PromptTail* tail) const {
  // One group decoding alone: the same loop continuous batching runs, so the two cannot drift.
  GenerationBatch batch(*this);
  batch.add(prompts, options, tail);
  std::vector<GenerationResult> results;
  while (!batch.empty()) {
    for (auto& done : batch.step()) results = std::move(done.results);
  }
  return results;
}

GenerationResult Generator::beam_search(const std::vector<EmbeddedPrompt>& prompts, size_t index,
                                        const GenerationOptions& options,
                                        const PromptTail* tail) const {
  const EmbeddedPrompt& prompt = prompts[index];
  const int64_t K = options.num_beams;
  const int eos = tokenizer_->eos_id();
  const double neg_inf = -std::numeric_limits<double>::infinity();
  torch::Tensor logits;  // (1, V)
  auto session = start(prompts, {index}, options.max_new_tokens, tail, &logits);
  session->reorder(at::zeros({K}, at::kLong));
  auto log_probs = logits.log_softmax(-1).expand({K, logits.size(-1)});  // (K, V)

  struct Hypothesis {
    std::vector<int> ids;
    double score = 0.0;  // sum of log-probabilities
    FinishReason reason = FinishReason::kLength;
  };
  auto normalized = [&](const Hypothesis& h) {
    const double len = std::max<size_t>(1, h.ids.size());
    return h.score / std::pow(len, options.length_penalty);
  };
  auto stops = [&](const std::vector<int>& ids) {
    if (options.stop_strings.empty()) return false;
    detail::TextStream s(*tokenizer_, anchor(prompt), options.stop_strings);
    s.update(ids);
    return s.stopped();
  };
  std::vector<Hypothesis> beams(K), finished;
  std::vector<double> beam_scores(K, neg_inf);
  beam_scores[0] = 0.0;  // all beams start identical: expand only the first one at step 0

  for (int step = 0; step < options.max_new_tokens; ++step) {
    auto scores = at::tensor(beam_scores, at::kDouble).unsqueeze(1) + log_probs.to(at::kDouble);
    const int64_t V = scores.size(1);
    auto top = scores.view({-1}).topk(2 * K);
    auto values = std::get<0>(top).contiguous(), indices = std::get<1>(top).contiguous();
    std::vector<Hypothesis> next;
    std::vector<int64_t> origin;
    std::vector<int64_t> tokens;
    for (int64_t j = 0; j < 2 * K && static_cast<int64_t>(next.size()) < K; ++j) {
      const double score = values[j].item<double>();
      if (!std::isfinite(score)) break;
      const int64_t flat = indices[j].item<int64_t>();
      const int64_t beam = flat / V;
      const int token = static_cast<int>(flat % V);
      Hypothesis h{beams[beam].ids, score, FinishReason::kLength};
      if (options.stop_at_eos && token == eos) {
        if (j < K) finished.push_back({h.ids, score, FinishReason::kEos});
        continue;
      }
      h.ids.push_back(token);
      if (stops(h.ids)) {
        finished.push_back({h.ids, score, FinishReason::kStopString});
        continue;
      }
      next.push_back(std::move(h));
      origin.push_back(beam);
      tokens.push_back(token);
    }
    if (next.empty()) break;
    beams = std::move(next);
    beam_scores.assign(K, neg_inf);
    for (size_t i = 0; i < beams.size(); ++i) beam_scores[i] = beams[i].score;
    while (static_cast<int64_t>(origin.size()) < K) {  // pad with dead beams
      origin.push_back(origin.front());
      tokens.push_back(tokens.front());
      beams.push_back({beams.front().ids, neg_inf, FinishReason::kLength});
    }
    if (static_cast<int64_t>(finished.size()) >= K) {
      std::sort(finished.begin(), finished.end(),
                [&](const auto& a, const auto& b) { return normalized(a) > normalized(b); });
      finished.resize(K);
      // No running beam can overtake the worst kept hypothesis (HF's default heuristic).
      if (normalized(beams.front()) <= normalized(finished.back())) break;
    }
    if (step + 1 == options.max_new_tokens || session->room() <= 0) break;
    session->reorder(at::tensor(origin, at::kLong));
    logits = session->feed(at::tensor(tokens, at::kLong).unsqueeze(1), /*last_only=*/true);
    log_probs = mask_unknown(logits.squeeze(1)).log_softmax(-1);
  }
  for (const auto& b : beams) {
    if (std::isfinite(b.score)) finished.push_back(b);
  }
  const auto best =
      std::max_element(finished.begin(), finished.end(),
                       [&](const auto& a, const auto& b) { return normalized(a) < normalized(b); });
  GenerationResult result;
  result.generated_ids = best->ids;
  result.log_prob = best->score;
  result.finish_reason = best->reason;
  detail::TextStream stream(*tokenizer_, anchor(prompt), options.stop_strings);
  stream.update(result.generated_ids);
  result.text = stream.text();
  if (options.on_text && !result.text.empty()) options.on_text(index, result.text);
  return result;
}

}  // namespace pplug
