// Sentence encoder for Persona-Plug's history and input encoders: a BERT model (BGE,
// Contriever) loaded from a Hugging Face folder (config.json, model.safetensors, vocab.txt, and
// optionally tokenizer_config.json for do_lower_case), with WordPiece tokenization and CLS or
// masked-mean pooling. float32 only.
//
// Two uses: encode() embeds texts for inference (no autograd; the frozen history encoder), and
// tokenize() + forward() is the differentiable path for training (the trainable input encoder).
// load() returns the encoder frozen (no parameter requires grad) and in eval mode;
// set_trainable(true) makes every parameter trainable and switches dropout on.
//
// Thread safety: encode(), tokenize() and forward() may run concurrently on one instance as long
// as no thread changes the parameters or the mode at the same time.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace torch::nn {
class Module;
}

namespace pplug {

class WordPieceTokenizer;

struct TextEncoderOptions {
  enum class Pooling { kCls, kMean };
  Pooling pooling = Pooling::kCls;  // kCls: the [CLS] state (BGE); kMean: mean of real tokens
  bool normalize = true;            // L2-normalise each embedding
  std::string query_instruction;    // prepended to texts encoded as queries ("" = none); BGE uses
                                    // "Represent this sentence for searching relevant passages: "
  int max_length = 512;             // tokens per text, [CLS] and [SEP] included (>= 2; also
                                    // capped by the model's max_position_embeddings)
  int batch_size = 32;              // texts per forward pass in encode() (>= 1)
};

// Token ids of a batch of texts, right-padded to the longest.
struct TokenBatch {
  torch::Tensor ids;             // (B, T) int64, [CLS] ... [SEP] [PAD]...
  torch::Tensor attention_mask;  // (B, T) int64, 1 = token, 0 = padding
};

class BertEncoder {
 public:
  // Loads `dir`; throws FormatError naming the file (and field or tensor) when something is
  // missing or malformed, MismatchError when vocab.txt has more entries than the embedding
  // rows, InvalidArgument for bad options.
  static std::shared_ptr<BertEncoder> load(const std::string& dir, TextEncoderOptions options = {});
  ~BertEncoder();
  BertEncoder(const BertEncoder&) = delete;
  BertEncoder& operator=(const BertEncoder&) = delete;

  // (N, H) float32 embeddings of `texts`, in order, without autograd. Texts are sorted by length
  // into batches of options().batch_size so that little padding is computed. `as_query`
  // prepends options().query_instruction. Runs in the module's current mode (eval after load()).
  torch::Tensor encode(const std::vector<std::string>& texts, bool as_query = false) const;
  // Tokenizes (with the instruction when `as_query`) and truncates to options().max_length.
  TokenBatch tokenize(const std::vector<std::string>& texts, bool as_query = false) const;
  // (B, H) pooled (and normalised, per options) embeddings; differentiable when trainable.
  torch::Tensor forward(const TokenBatch& batch) const;

  int64_t dim() const;  // H
  const TextEncoderOptions& options() const;
  const WordPieceTokenizer& tokenizer() const;
  // The underlying torch module; parameter names are the HF checkpoint keys.
  torch::nn::Module& module();
  // The same module as a shared pointer (to register it inside another module).
  std::shared_ptr<torch::nn::Module> shared_module();
  // A deep copy (own weights, same options and vocabulary), frozen and in eval mode: the start
  // of Persona-Plug's trainable input encoder.
  std::shared_ptr<BertEncoder> copy() const;
  // true: every parameter requires grad and the module is in training mode; false: frozen, eval.
  void set_trainable(bool trainable);
  // Writes config.json, model.safetensors and vocab.txt to `dir` (created if needed).
  void save(const std::string& dir) const;

 private:
  struct Impl;
  explicit BertEncoder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Architecture of a randomly initialised BERT (defaults: BERT-base / BGE-base).
struct BertShape {
  int64_t hidden_size = 768;              // H
  int64_t num_hidden_layers = 12;         // transformer layers
  int64_t num_attention_heads = 12;       // heads; divides hidden_size
  int64_t intermediate_size = 3072;       // feed-forward width
  int64_t max_position_embeddings = 512;  // longest input
};

// Writes an HF BERT folder (config.json, model.safetensors, a copy of `vocab_path` as vocab.txt)
// with BERT's initialisation (normal(0, 0.02) weights, zero biases, unit LayerNorm), reproducible
// from `seed`. The vocabulary size is that of `vocab_path`. For benchmarks and tests.
void write_random_bert(const std::string& dir, const BertShape& shape,
                       const std::string& vocab_path, uint64_t seed);

}  // namespace pplug
