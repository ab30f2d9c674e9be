// Text generation with any LanguageModel (decoder-only or encoder-decoder): greedy, sampling
// (temperature, top-k, top-p) and beam search, stop strings and streaming, over token prompts or
// over prompt embeddings (how soft tokens are generated from).
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pplug/language_model.h"
#include "pplug/llama_model.h"
#include "pplug/tokenizer.h"

namespace pplug {

// Temperatures below this pick greedily (see GenerationOptions::temperature).
inline constexpr float kGreedyTemperature = 1e-6f;
// The widest beam search (each beam holds a KV cache of its own).
inline constexpr int kMaxNumBeams = 64;

struct GenerationOptions {
  int max_new_tokens = 64;      // upper bound on generated tokens per sequence (> 0)
  float temperature = 0.0f;     // 0 = greedy (argmax); > 0 samples from softmax(logits / T);
                                // below kGreedyTemperature (1e-6) greedy too: the limit, and
                                // logits / T would overflow to inf for the tiniest T
  int top_k = 0;                // sampling keeps the k most likely tokens; 0 = all
  float top_p = 1.0f;           // sampling keeps the smallest set with mass >= p; 1 = all
  int num_beams = 1;            // > 1 = beam search (deterministic; sampling options ignored)
  float length_penalty = 1.0f;  // beam search ranks by sum(log p) / length^penalty
  uint64_t seed = 0;            // seed of the sampling generator (same seed, same output)
  bool stop_at_eos = true;      // stop a sequence when it produces the tokenizer's EOS
  std::vector<std::string> stop_strings;  // stop when the text contains one (it is cut off)
  // Streaming: called with each new piece of a sequence's text as it is produced (in beam search
  // once, with the final text). Return false to stop that sequence. Empty = no streaming.
  std::function<bool(size_t sequence, const std::string& text)> on_text;
};

enum class FinishReason { kLength, kEos, kStopString, kCallback };
const char* to_string(FinishReason reason);

struct GenerationResult {
  std::vector<int> prompt_ids;  // the prompt as fed (BOS included); empty for embedding prompts
  std::vector<int>
      generated_ids;  // generated tokens (EOS excluded; up to the one completing a stop string)
  std::string text;   // decoded continuation (cut before a stop string)
  FinishReason finish_reason = FinishReason::kLength;
  double log_prob = 0.0;  // sum of log-probabilities of generated_ids under the model
};

class GenerationBatch;

// Thread safety: a Generator holds only shared immutable state; generate() may run on several
// threads at once.
class Generator {
 public:
  Generator(std::shared_ptr<const LanguageModel> model, std::shared_ptr<const Tokenizer> tokenizer);
  Generator(std::shared_ptr<const LlamaModel> model, std::shared_ptr<const Tokenizer> tokenizer);

  // Tokenizes each prompt, framed as the model wants it (BOS first for decoder-only models,
  // </s> last for T5), and generates; the prompts run as one batch.
  std::vector<GenerationResult> generate(const std::vector<std::string>& prompts,
                                         const GenerationOptions& options) const;
  GenerationResult generate(const std::string& prompt, const GenerationOptions& options) const;
  // Prompts given as token ids, fed as given (include BOS, or T5's </s>, yourself).
  std::vector<GenerationResult> generate_ids(const std::vector<std::vector<int>>& prompts,
                                             const GenerationOptions& options) const;
  // Prompts given as embeddings (e.g. [BOS][soft tokens][prompt]).
  std::vector<GenerationResult> generate_embedded(const std::vector<EmbeddedPrompt>& prompts,
                                                  const GenerationOptions& options) const;
  // The same with each prompt completed by `tail` (see PromptTail).
  std::vector<GenerationResult> generate_embedded(const std::vector<EmbeddedPrompt>& heads,
                                                  const GenerationOptions& options,
                                                  const PromptTail& tail) const;
  // Log-probability of each candidate continuation (token ids, scored in full) after each
  // prompt: result[p][c]. The prompt is run once and its cache shared by the candidates. Used
  // to pick among a task's labels (rank classification).
  std::vector<std::vector<double>> score_candidates(
      const std::vector<EmbeddedPrompt>& prompts,
      const std::vector<std::vector<int>>& candidates) const;
  // The same with each prompt completed by `tail` (see PromptTail).
  std::vector<std::vector<double>> score_candidates(const std::vector<EmbeddedPrompt>& heads,
                                                    const std::vector<std::vector<int>>& candidates,
                                                    const PromptTail& tail) const;

  const LanguageModel& model() const { return *model_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }

 private:
  friend class GenerationBatch;  // starts its groups' sessions as sample_batch does
  // Both generate_embedded forms: validation, then beam search or sampling (tail may be null).
  std::vector<GenerationResult> run(const std::vector<EmbeddedPrompt>& prompts,
                                    const GenerationOptions& options, const PromptTail* tail) const;
  std::vector<GenerationResult> sample_batch(const std::vector<EmbeddedPrompt>& prompts,
                                             const GenerationOptions& options,
                                             const PromptTail* tail) const;
  GenerationResult beam_search(const std::vector<EmbeddedPrompt>& prompts, size_t index,
                               const GenerationOptions& options, const PromptTail* tail) const;
  // Starts a session after prompts `rows` with room for `continuation` tokens; the logits that
  // predict each row's first token (R, V) go to `first`, with ids the tokenizer lacks masked.
  std::unique_ptr<DecodingSession> start(const std::vector<EmbeddedPrompt>& prompts,
                                         const std::vector<size_t>& rows, int64_t continuation,
                                         const PromptTail* tail, torch::Tensor* first) const;
  // Logits (B, V) of ids the tokenizer has no piece for (HF pads T5's vocabulary to 32128 rows
  // for 32000 pieces) set to -inf, so they are never generated.
  torch::Tensor mask_unknown(torch::Tensor logits) const;
  // The anchor of a prompt's continuation (EmbeddedPrompt::anchor_id; none for encoder-decoders).
  int anchor(const EmbeddedPrompt& prompt) const;
  // Checks shapes and lengths; `extra` = positions a tail adds.
  void validate_prompts(const std::vector<EmbeddedPrompt>& prompts, int64_t extra) const;

  std::shared_ptr<const LanguageModel> model_;
  std::shared_ptr<const Tokenizer> tokenizer_;
};

// Continuous batching: groups of sequences join a running decode between two steps and leave it
// as soon as they finish, so a short request never waits for a long one to end and a new one
// never waits for a whole batch. A group (one add(): one request's prompts) keeps its own
// options, sampling generator, streaming callback and results; its output equals
// Generator::generate_embedded of its prompts alone (greedy: the same tokens; sampled: the same
// tokens for the same seed). Generator's own sampling runs on it, as a batch of one group.
//
// Decoder-only models take a group in at any step. An encoder-decoder's rows share their decoder
// positions, so it takes groups only before its first step (can_join() says when).
// Not thread-safe: one thread adds and steps.
class GenerationBatch {
 public:
  explicit GenerationBatch(Generator generator);
  ~GenerationBatch();
  GenerationBatch(GenerationBatch&&) noexcept;
  GenerationBatch& operator=(GenerationBatch&&) noexcept;

  // Starts `prompts` (read through `tail` when given, see PromptTail) as one group and adds it
  // to the running batch; the group's first tokens are picked by the next step(). `prompt_ids`
  // (optional, one per prompt) are reported in the results. Returns the group's id. Throws
  // InvalidArgument (the batch unchanged) for invalid options or prompts, beam search
  // (num_beams > 1: not batched continuously), or when !can_join().
  uint64_t add(const std::vector<EmbeddedPrompt>& prompts, const GenerationOptions& options,
               const PromptTail* tail = nullptr, std::vector<std::vector<int>> prompt_ids = {});
  // The same for text prompts, tokenized and framed as Generator::generate does.
  uint64_t add_text(const std::vector<std::string>& prompts, const GenerationOptions& options);

  struct Finished {
    uint64_t group = 0;
    std::vector<GenerationResult> results;  // one per prompt of the group, in order
  };
  // Picks one token for every running sequence (streaming callbacks run here), retires the
  // groups that finished and feeds the others' tokens to the model. Returns the retired groups.
  // If it throws (the model failed), the batch is left empty: every running group is lost.
  std::vector<Finished> step();

  // Whether add() can take a group now (always, except an encoder-decoder already decoding).
  bool can_join() const;
  bool empty() const;
  size_t sequences() const;  // running rows
  size_t groups() const;
  const Generator& generator() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace pplug
