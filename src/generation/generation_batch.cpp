// Continuous batching: one decoding session whose rows are the running sequences of many groups.
// Rows are kept in group order (a group's rows are adjacent), so a finished group leaves through
// one reorder() of the session and a new one joins at the end through merge().
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>

#include "generation/id_prompts.h"
#include "generation/sampler.h"
#include "generation/text_stream.h"
#include "pplug/error.h"
#include "pplug/generation.h"

namespace pplug {

struct GenerationBatch::State {
  struct Group {
    uint64_t id = 0;
    GenerationOptions options;
    at::Generator rng;
    // Tokens the group may pick: max_new_tokens, or fewer when its context fills up first (as
    // many as its session had room to feed, plus the last one, which is never fed).
    int64_t budget = 0;
    int64_t steps = 0;
    std::vector<GenerationResult> results;
    std::vector<detail::TextStream> streams;
    std::vector<bool> active;
    size_t remaining = 0;

    size_t rows() const { return results.size(); }
    bool emit(size_t row, const std::string& delta) {
      if (!delta.empty() && options.on_text && !options.on_text(row, delta)) {
        results[row].finish_reason = FinishReason::kCallback;
        return false;
      }
      return true;
    }
    void finish(size_t row, FinishReason reason) {
      active[row] = false;
      --remaining;
      results[row].finish_reason = reason;
      if (reason != FinishReason::kCallback) emit(row, streams[row].flush());
      results[row].text = streams[row].text();
    }
    // Takes this step's tokens of the group's rows (and their log-probabilities).
    void take(const int64_t* tokens, const float* log_probs, int eos) {
      for (size_t b = 0; b < rows(); ++b) {
        if (!active[b]) continue;
        const int id = static_cast<int>(tokens[b]);
        if (options.stop_at_eos && id == eos) {
          finish(b, FinishReason::kEos);
          continue;
        }
        results[b].generated_ids.push_back(id);
        results[b].log_prob += log_probs[b];
        const std::string delta = streams[b].update(results[b].generated_ids);
        if (streams[b].stopped()) {
          emit(b, delta);
          finish(b, FinishReason::kStopString);
        } else if (!emit(b, delta)) {
          finish(b, FinishReason::kCallback);
        }
      }
      ++steps;
      if (remaining > 0 && steps >= budget) {
        for (size_t b = 0; b < rows(); ++b) {
          if (active[b]) finish(b, FinishReason::kLength);
        }
      }
    }
  };

  explicit State(Generator g) : generator(std::move(g)) {}

  Generator generator;
  std::unique_ptr<DecodingSession> session;
  torch::Tensor logits;  // (rows, V): the logits that predict each running row's next token
  std::vector<Group> groups;
  uint64_t next_id = 1;

  void clear() {
    session.reset();
    logits = torch::Tensor();
    groups.clear();
  }
};

GenerationBatch::GenerationBatch(Generator generator)
    : state_(std::make_unique<State>(std::move(generator))) {}
GenerationBatch::~GenerationBatch() = default;
GenerationBatch::GenerationBatch(GenerationBatch&&) noexcept = default;
GenerationBatch& GenerationBatch::operator=(GenerationBatch&&) noexcept = default;

bool GenerationBatch::can_join() const { return !state_->session || state_->session->can_merge(); }
bool GenerationBatch::empty() const { return state_->groups.empty(); }
size_t GenerationBatch::sequences() const {
  size_t rows = 0;
  for (const auto& group : state_->groups) rows += group.rows();
  return rows;
}
size_t GenerationBatch::groups() const { return state_->groups.size(); }
const Generator& GenerationBatch::generator() const { return state_->generator; }

uint64_t GenerationBatch::add_text(const std::vector<std::string>& prompts,
                                   const GenerationOptions& options) {
  const Generator& g = state_->generator;
  auto ids = detail::framed_prompts(g.model(), g.tokenizer(), prompts);
  c10::InferenceMode guard;
  const auto embedded = detail::embedded_id_prompts(g.model(), ids);
  return add(embedded, options, nullptr, std::move(ids));
}

uint64_t GenerationBatch::add(const std::vector<EmbeddedPrompt>& prompts,
                              const GenerationOptions& options, const PromptTail* tail,
                              std::vector<std::vector<int>> prompt_ids) {
  State& s = *state_;
  const Generator& g = s.generator;
  detail::validate_options(options);
  if (prompts.empty()) throw InvalidArgument("generate: no prompts given");
  if (options.num_beams > 1) {
    throw InvalidArgument("generate: beam search (num_beams " + std::to_string(options.num_beams) +
                          ") is not batched continuously; use Generator::generate");
  }
  if (tail != nullptr && (tail->length < 1 || !tail->make)) {
    throw InvalidArgument("generate: a prompt tail needs length >= 1 and a make function");
  }
  if (!prompt_ids.empty() && prompt_ids.size() != prompts.size()) {
    throw InvalidArgument("generate: " + std::to_string(prompt_ids.size()) +
                          " prompt id lists for " + std::to_string(prompts.size()) + " prompts");
  }
  if (!can_join()) {
    throw InvalidArgument(
        "generate: this encoder-decoder batch is already decoding; its rows share their decoder "
        "positions, so new sequences wait until it is empty (see GenerationBatch::can_join)");
  }
  g.validate_prompts(prompts, tail != nullptr ? tail->length : 0);
  c10::InferenceMode guard;
  std::vector<size_t> rows(prompts.size());
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = i;
  torch::Tensor first;
  auto session = g.start(prompts, rows, options.max_new_tokens, tail, &first);

  State::Group group;
  group.id = s.next_id++;
  group.options = options;
  group.rng = at::detail::createCPUGenerator(options.seed);
  group.budget = std::min<int64_t>(options.max_new_tokens, session->room() + 1);
  group.results.resize(prompts.size());
  group.streams.reserve(prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    if (!prompt_ids.empty()) group.results[i].prompt_ids = std::move(prompt_ids[i]);
    group.streams.emplace_back(g.tokenizer(), g.anchor(prompts[i]), options.stop_strings);
  }
  group.active.assign(prompts.size(), true);
  group.remaining = prompts.size();

  if (!s.session) {
    s.session = std::move(session);
    s.logits = first;
  } else {
    if (!s.session->merge(*session)) {
      throw InvalidArgument("generate: the model cannot take new sequences into this batch now");
    }
    s.logits = at::cat({s.logits, first});
  }
  s.groups.push_back(std::move(group));
  return s.groups.back().id;
}

std::vector<GenerationBatch::Finished> GenerationBatch::step() {
  State& s = *state_;
  std::vector<Finished> finished;
  if (s.groups.empty()) return finished;
  c10::InferenceMode guard;
  try {
    const int eos = s.generator.tokenizer().eos_id();
    std::vector<torch::Tensor> next_tokens;
    std::vector<int64_t> kept_rows;
    std::vector<State::Group> kept;
    int64_t row = 0;
    for (auto& group : s.groups) {
      const auto n = static_cast<int64_t>(group.rows());
      const auto logits = s.logits.narrow(0, row, n);
      const auto tokens = detail::pick_tokens(logits, group.options, group.rng).contiguous();
      const auto log_probs =
          logits.log_softmax(-1).gather(-1, tokens.unsqueeze(-1)).squeeze(-1).contiguous();
      group.take(tokens.data_ptr<int64_t>(), log_probs.data_ptr<float>(), eos);
      if (group.remaining == 0) {
        finished.push_back({group.id, std::move(group.results)});
      } else {
        for (int64_t r = 0; r < n; ++r) kept_rows.push_back(row + r);
        next_tokens.push_back(tokens);
        kept.push_back(std::move(group));
      }
      row += n;
    }
    if (kept.empty()) {
      s.clear();
      return finished;
    }
    if (!finished.empty()) s.session->reorder(at::tensor(kept_rows, at::kLong));
    s.groups = std::move(kept);
    const auto tokens = at::cat(next_tokens).unsqueeze(1);
    s.logits = s.generator.mask_unknown(s.session->feed(tokens, /*last_only=*/true).squeeze(1));
  } catch (...) {
    s.clear();
    throw;
  }
  return finished;
}

}  // namespace pplug
