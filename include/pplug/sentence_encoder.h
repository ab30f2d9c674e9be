// Sentence encoders for Persona-Plug: text -> one vector. The history encoder is frozen, so its
// per-item vectors are computed once (embed_user) and cached. Two kinds:
//  - the frozen LLM itself: masked mean of its final hidden states, L2-normalised (always
//    available; the default, so the real stories260K is then the whole stack);
//  - a BERT-family encoder (BGE, Contriever) loaded from an HF folder.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pplug/language_model.h"
#include "pplug/llama_model.h"
#include "pplug/text_encoder.h"
#include "pplug/tokenizer.h"

namespace pplug {

struct LoadedModel;

struct LlmEncoderOptions {
  enum class Pooling {
    kMean,  // mean of the final hidden states of all tokens
    kLast,  // the final hidden state of the last token, which has read the whole text (and
            // under the default templates sits on the item's label: "... score: 4")
  };
  int max_tokens = 128;  // tokens per text (BOS included); longer texts keep their beginning
  int batch_size = 16;   // texts per forward pass (sorted by length to limit padding)
  Pooling pooling = Pooling::kMean;
  // When set, items get a second vector, their key, pooled this way from the same forward pass,
  // and queries are pooled this way too: the aggregator matches the input against the keys and
  // mixes the values (`pooling`). Last-token values carry an item's label ("... tag: comedy"),
  // which swamps what the item is about; mean-pooled keys keep the topic ("llm:last/mean").
  std::optional<Pooling> key_pooling;
};

// An encoder's vectors of history items: `values` make up the persona, `keys` are what the input
// is compared with (in the space of encode(..., as_query = true)). `keys` undefined: the values
// are the keys (the reference method: one vector per item).
struct ItemVectors {
  torch::Tensor values;  // (N, dim) float32, unit rows
  torch::Tensor keys;    // (N, dim) float32, unit rows, or undefined
};

class SentenceEncoder {
 public:
  virtual ~SentenceEncoder() = default;
  // (N, dim()) float32, L2-normalised rows, no autograd. `as_query` marks task inputs (an
  // encoder may prepend a query instruction to them).
  virtual torch::Tensor encode(const std::vector<std::string>& texts, bool as_query) const = 0;
  // History items: values, and keys when this encoder makes separate ones (see ItemVectors).
  virtual ItemVectors encode_items(const std::vector<std::string>& texts) const {
    return {encode(texts, /*as_query=*/false), {}};
  }
  virtual int64_t dim() const = 0;
  // "llm" or "bert".
  virtual std::string kind() const = 0;
  // The name load_sentence_encoder rebuilds this encoder from, given the same LLM ("llm",
  // "llm:last", "llm:last/mean"); "" when a name cannot (BERT folders, non-default options).
  // Plug-ins record it so their users need not repeat --encoder.
  virtual std::string spec() const { return ""; }
  // Identifies the exact weights (plug-in checkpoints record it and refuse another encoder).
  virtual std::string fingerprint() const = 0;
  // When this encoder is `model` itself, its query pooling: the final hidden states the LLM
  // computes anyway can then be pooled into this encoder's query space (PluginConfig::query_source
  // kPrompt).
  virtual std::optional<LlmEncoderOptions::Pooling> pooling_over(const LanguageModel& model) const {
    (void)model;
    return std::nullopt;
  }
  // The BERT model behind a "bert" encoder (PluginConfig::input_encoder kCopy copies it); null
  // for other kinds.
  virtual std::shared_ptr<const BertEncoder> bert() const { return nullptr; }
};

// The frozen LLM (any architecture: a decoder-only model's final hidden states, an
// encoder-decoder's encoder output) as the history encoder. Texts are framed as the model frames
// a prompt (BOS first, T5's </s> last).
std::shared_ptr<SentenceEncoder> make_llm_encoder(std::shared_ptr<const LanguageModel> model,
                                                  std::shared_ptr<const Tokenizer> tokenizer,
                                                  LlmEncoderOptions options = {});
std::shared_ptr<SentenceEncoder> make_llm_encoder(std::shared_ptr<const LlamaModel> model,
                                                  std::shared_ptr<const Tokenizer> tokenizer,
                                                  LlmEncoderOptions options = {});
std::shared_ptr<SentenceEncoder> make_bert_encoder(std::shared_ptr<BertEncoder> encoder);

// The history encoder named by a command line or a trainer: "" (or "llm") = the frozen `llm`
// itself with mean pooling, "llm:last" = the same with last-token pooling, "llm:VALUES/KEYS"
// (VALUES, KEYS = mean or last) = values pooled one way, keys and queries the other (e.g.
// "llm:last/mean", see LlmEncoderOptions::key_pooling; make_llm_encoder with otherwise default
// options; needs its tokenizer), otherwise an HF BERT folder
// loaded with `bert_options`, or with BGE's settings when none are given (CLS pooling,
// L2-normalised, query instruction "Represent this sentence for searching relevant passages: ").
// Throws InvalidArgument when the LLM has no tokenizer, FormatError for a bad BERT folder.
std::shared_ptr<SentenceEncoder> load_sentence_encoder(
    const std::string& encoder_dir, const LoadedModel& llm,
    std::optional<TextEncoderOptions> bert_options = std::nullopt);

}  // namespace pplug
