// Text generation with a LlamaModel: greedy, sampling (temperature, top-k, top-p) and beam
// search, over token prompts or over prefix embeddings (how soft tokens are generated from).
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

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

// A prompt given as embeddings: `embeds` (T, d) is fed as is; `anchor_id`, when >= 0, is the
// token that precedes the continuation (used so the first generated word keeps its leading space
// when decoded).
struct EmbeddedPrompt {
  torch::Tensor embeds;  // (T, d)
  int anchor_id = -1;
};

// The end of a prompt that depends on how the model read its beginning. The prompts given to
// generate_embedded() / score_candidates() are then heads: each head runs through the model
// first, `make` turns the final hidden states of the heads into their tails, and the tails are
// fed right after them, into the same cache, before generation starts. One forward pass serves
// both the reading and the prompt (Persona-Plug's prompt-read query uses it).
struct PromptTail {
  int64_t length = 0;  // positions every tail adds (the same for all prompts, >= 1)
  // hidden: (R, T, d) final normed hidden states of the heads of prompts `rows` (indices into
  // the prompts given), left-padded; mask: (R, T) int64, 1 = real position. Returns the tails
  // (R, length, d), any float dtype.
  std::function<torch::Tensor(const torch::Tensor& hidden, const torch::Tensor& mask,
                              const std::vector<size_t>& rows)>
      make;
};

// Thread safety: a Generator holds only shared immutable state; generate() may run on several
// threads at once.
class Generator {
 public:
  Generator(std::shared_ptr<const LlamaModel> model, std::shared_ptr<const Tokenizer> tokenizer);

  // Tokenizes each prompt with BOS and generates; the prompts run as one left-padded batch.
  std::vector<GenerationResult> generate(const std::vector<std::string>& prompts,
                                         const GenerationOptions& options) const;
  GenerationResult generate(const std::string& prompt, const GenerationOptions& options) const;
  // Prompts given as token ids (include BOS yourself).
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

  const LlamaModel& model() const { return *model_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }

 private:
  // Both generate_embedded forms: validation, then beam search or sampling (tail may be null).
  std::vector<GenerationResult> run(const std::vector<EmbeddedPrompt>& prompts,
                                    const GenerationOptions& options, const PromptTail* tail) const;
  std::vector<GenerationResult> sample_batch(const std::vector<EmbeddedPrompt>& prompts,
                                             const GenerationOptions& options,
                                             const PromptTail* tail) const;
  GenerationResult beam_search(const std::vector<EmbeddedPrompt>& prompts, size_t index,
                               const GenerationOptions& options, const PromptTail* tail) const;
  // Feeds prompts `rows` (left-padded into one batch) and, when given, their tails into `cache`;
  // returns the logits of each row's last position (R, V).
  torch::Tensor prefill(const std::vector<EmbeddedPrompt>& prompts, const std::vector<size_t>& rows,
                        KVCache& cache, const PromptTail* tail) const;
  // Checks shapes and lengths; `extra` = positions a tail adds.
  void validate_prompts(const std::vector<EmbeddedPrompt>& prompts, int64_t extra) const;

  std::shared_ptr<const LlamaModel> model_;
  std::shared_ptr<const Tokenizer> tokenizer_;
};

}  // namespace pplug
