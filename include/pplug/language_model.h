// The frozen LLM behind one interface, whatever its architecture: what generation, the
// plug-in, the trainer and the evaluator need from it. Decoder-only models (LlamaModel: Llama,
// Mistral, Qwen2/3) and encoder-decoders (T5Model: T5, FlanT5) implement it, so the code that
// differs per architecture lives in two adapters instead of in `if`s across the library.
//
// A prompt is a sequence of input embeddings (T, d) in the model's own embedding space: for a
// decoder-only model the start of the sequence it continues, for an encoder-decoder the
// encoder's input (the decoder starts from its start token). Everything that follows the prompt
// (a training target, a candidate label, generated text) is token ids. Persona-Plug's soft tokens
// are rows of a prompt: [BOS][soft][prompt] for Llama, [soft][prompt][</s>] for T5 (the
// reference places them in T5's encoder input).
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace pplug {

class LlamaModel;
class T5Model;
class Tokenizer;

// A prompt given as embeddings: `embeds` (T, d) is fed as is; `anchor_id`, when >= 0, is the
// token that precedes the continuation (used so the first generated word keeps its leading space
// when decoded; ignored by encoder-decoders, whose continuation starts a fresh text).
struct EmbeddedPrompt {
  torch::Tensor embeds;  // (T, d)
  int anchor_id = -1;
};

// The end of a prompt that depends on how a decoder-only model read its beginning. The prompts
// given to generation or scoring are then heads: each head runs through the model first, `make`
// turns the final hidden states of the heads into their tails, and the tails are fed right after
// them, into the same cache, before generation starts. One forward pass serves both the reading
// and the prompt (Persona-Plug's prompt-read query uses it). Encoder-decoders refuse tails: their
// encoder reads the whole prompt at once.
struct PromptTail {
  int64_t length = 0;  // positions every tail adds (the same for all prompts, >= 1)
  // hidden: (R, T, d) final normed hidden states of the heads of prompts `rows` (indices into
  // the prompts given), left-padded; mask: (R, T) int64, 1 = real position. Returns the tails
  // (R, length, d), any float dtype.
  std::function<torch::Tensor(const torch::Tensor& hidden, const torch::Tensor& mask,
                              const std::vector<size_t>& rows)>
      make;
};

// Incremental decoding of a batch of continuations, each after its own prompt. Not thread-safe;
// one session per request batch.
class DecodingSession {
 public:
  virtual ~DecodingSession() = default;
  // Appends `tokens` (B, L) int64 to every row's continuation and returns the logits they
  // predict: (B, L, V) float32, or (B, 1, V) for the last position only. Rows may be
  // right-padded with any id: a position never sees the positions after it.
  virtual torch::Tensor feed(const torch::Tensor& tokens, bool last_only) = 0;
  // Keeps rows `index` (B') in that order (beam search; one prompt scored against C candidates).
  virtual void reorder(const torch::Tensor& index) = 0;
  // Continuation positions that can still be fed (the context fills up).
  virtual int64_t room() const = 0;
  // Continuous batching: appends the rows of `other` (a session of the same model from start(),
  // or one merged before) after this session's rows; each row keeps its own prompt, position and
  // room, so room() becomes the larger of the two. `other` is left without rows. Returns false,
  // changing nothing, where the model cannot take rows into a running decode (encoder-decoders:
  // their decoder positions are shared by all rows).
  virtual bool merge(DecodingSession& other) {
    (void)other;
    return false;
  }
  // Whether merge() would take a freshly started session's rows now: always for decoder-only
  // models; for encoder-decoders only before this session's first feed().
  virtual bool can_merge() const { return false; }
};

class LanguageModel {
 public:
  virtual ~LanguageModel() = default;

  // "llama" (the decoder-only family) or "t5".
  virtual std::string architecture() const = 0;
  virtual bool is_encoder_decoder() const = 0;
  virtual int64_t hidden_size() const = 0;
  virtual int64_t vocab_size() const = 0;
  // Transformer blocks in all (encoder and decoder).
  virtual int64_t num_layers() const = 0;
  virtual torch::Dtype dtype() const = 0;
  // A short hex digest of the config and all weights: identifies the exact model.
  virtual const std::string& fingerprint() const = 0;

  // Token embeddings of `ids` (any shape) -> (..., d) in the compute dtype.
  virtual torch::Tensor embed(const torch::Tensor& ids) const = 0;
  // The token-embedding matrix (V, d) in the compute dtype.
  virtual const torch::Tensor& embedding_matrix() const = 0;

  // The token ids that frame a prompt's text: before it ([BOS] for a decoder-only model) and
  // after it (T5's </s>, which its tokenizer appends to every input).
  virtual std::vector<int> prompt_start_ids(const Tokenizer& tokenizer) const = 0;
  virtual std::vector<int> prompt_end_ids(const Tokenizer& tokenizer) const = 0;
  // Prompt positions plus continuation positions the model can hold at most (0 = no limit:
  // T5's relative positions have none).
  virtual int64_t max_positions() const = 0;

  // Starts decoding after prompts[rows] (each (T, d)), with room for `continuation` tokens
  // (fewer when the context runs out first: see room()). `tail`, when given, completes each
  // prompt (PromptTail; decoder-only models only). Returns the session and, in `first_logits`,
  // the logits (R, V) float32 that predict each row's first continuation token. No autograd.
  virtual std::unique_ptr<DecodingSession> start(const std::vector<EmbeddedPrompt>& prompts,
                                                 const std::vector<size_t>& rows,
                                                 int64_t continuation, const PromptTail* tail,
                                                 torch::Tensor* first_logits) const = 0;

  // Teacher forcing: the cross-entropy summed over every target token of every row, each target
  // predicted after its prompt (prompts[b] (T_b, d), any float dtype). Differentiable with
  // respect to the prompts: what training the plug-in through the frozen model needs.
  virtual torch::Tensor target_cross_entropy(
      const std::vector<torch::Tensor>& prompts,
      const std::vector<std::vector<int>>& targets) const = 0;

  // The states a text leaves in the model, for pooling it into a sentence vector: inputs_embeds
  // (B, T, d) left-padded, mask (B, T) int64 1 = real -> (B, T, d). The final normed hidden
  // states of a decoder-only model; the encoder output of an encoder-decoder. No autograd.
  virtual torch::Tensor text_states(const torch::Tensor& inputs_embeds,
                                    const torch::Tensor& mask) const = 0;

  // The decoder-only model behind this interface, for its own fast paths (frozen prompt starts
  // kept as KV caches in training, prompts read once); null for an encoder-decoder.
  virtual const LlamaModel* decoder_only() const { return nullptr; }
};

std::shared_ptr<const LanguageModel> make_language_model(std::shared_ptr<const LlamaModel> model);
std::shared_ptr<const LanguageModel> make_language_model(std::shared_ptr<const T5Model> model);

}  // namespace pplug
