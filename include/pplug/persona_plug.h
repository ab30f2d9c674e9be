// Persona-Plug: a frozen LLM made personal by soft tokens computed from a user's whole history.
//
//   PersonaPlug plug(llm, encoder, config);          // fresh, or PersonaPlug::load(dir, ...)
//   UserEmbedding user = plug.embed_user(history);   // once per user; save it, reuse it
//   GenerationResult r = plug.generate(user, input, options);
//
// LLM input: [BOS] [I] [P_1..P_np] prompt answer_prefix -> continuation (the reference's
// placement; PluginConfig::placement can move the soft tokens just before answer_prefix). For an
// encoder-decoder (T5) the same sequence without BOS and with </s> last is the encoder's input,
// and the decoder generates the continuation. I is a
// task-level instruction token; P is the input-aware weighted sum of the projected history vectors.
// Every soft token is scaled to the mean norm of the LLM's token embeddings.
//
// Thread safety: after construction (or load) a PersonaPlug is read-only: embed_user() and
// generate() may be called concurrently from any number of threads on one shared instance and
// give the same results as serial calls. Training (train_plugin) must not overlap them.
#pragma once

#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

#include "pplug/generation.h"
#include "pplug/lamp_data.h"
#include "pplug/model_io.h"
#include "pplug/plugin_config.h"
#include "pplug/sentence_encoder.h"

namespace pplug {

namespace detail {
struct PluginTraining;
}

// A history item: LaMP profile fields ("text", "title", "tag", "score", ...) under an id.
using HistoryItem = lamp::ProfileItem;
// A plain-text history item (field "text").
HistoryItem text_item(std::string text, std::string id = "");

// How UserEmbedding::to_bytes stores a user: the size trade-off of a user store
// (docs/serving.md, "Size").
struct EmbeddingStorage {
  // Item vectors and keys: "f32", "bf16", or "int8" (each row scaled by its largest magnitude).
  // Read back as f32.
  std::string vectors = "f32";
  // false: the projections are left out and the plug-in recomputes them from the item vectors
  // at each query (one (N, d_e) x (d_e, n_p d) product). At LLM width they are most of a user's
  // bytes (n_p d floats per item against d_e).
  bool projections = true;
};

// A user's encoded history. Holds the frozen encoder's item vectors (d_e each) and the plug-in's
// projections of them, so a query costs one input encoding and one weighted sum.
class UserEmbedding {
 public:
  UserEmbedding() = default;
  int64_t num_items() const { return item_vectors_.defined() ? item_vectors_.size(0) : 0; }
  const torch::Tensor& item_vectors() const { return item_vectors_; }  // (N, d_e) f32
  // (N, n_p d) f32; undefined when read from a form stored without them (EmbeddingStorage):
  // the plug-in then recomputes them at each query.
  const torch::Tensor& item_projections() const { return item_projections_; }
  // What the input is compared with: (N, d_e) f32, the encoder's item keys when it makes them
  // (ItemVectors), otherwise the item vectors themselves.
  const torch::Tensor& item_keys() const {
    return item_keys_.defined() ? item_keys_ : item_vectors_;
  }
  const std::vector<std::string>& item_ids() const { return item_ids_; }
  const std::string& encoder_fingerprint() const { return encoder_fingerprint_; }
  const std::string& plugin_fingerprint() const { return plugin_fingerprint_; }

  // This history followed by `added`'s items, both embedded by the same plug-in and encoder
  // (fingerprints), keeping the most recent `max_items`: what embedding the longer history
  // gives, without encoding the old items again. Throws InvalidArgument for embeddings of
  // different plug-ins or encoders, or an item id present in both.
  UserEmbedding appended(const UserEmbedding& added, int64_t max_items) const;

  // A self-describing binary form (safetensors bytes with metadata), as compact as `storage`
  // says; from_bytes reads every form.
  std::string to_bytes(const EmbeddingStorage& storage = {}) const;
  static UserEmbedding from_bytes(const std::string& bytes, const std::string& source = "bytes");
  void save(const std::string& path, const EmbeddingStorage& storage = {}) const;  // atomic
  static UserEmbedding load(const std::string& path);

 private:
  friend class PersonaPlug;
  torch::Tensor item_vectors_, item_projections_, item_keys_;
  std::vector<std::string> item_ids_;
  std::string encoder_fingerprint_, plugin_fingerprint_;
};

// One personalized request of a batch.
struct UserRequest {
  const UserEmbedding* user = nullptr;
  std::string input;  // the task input (e.g. a LaMP question's "input")
};

class PersonaPlug {
 public:
  // A fresh plug-in (random projector weights from `seed`) for this LLM and encoder.
  PersonaPlug(LoadedModel llm, std::shared_ptr<const SentenceEncoder> encoder, PluginConfig config,
              uint64_t seed = 0);
  // Loads a plug-in folder (manifest.json + plugin.safetensors); throws MismatchError when it
  // was trained for another LLM or encoder, FormatError when the folder is malformed. A training
  // run's output folder (train_run.json, best/, last/) loads its best/ plug-in.
  static std::shared_ptr<PersonaPlug> load(const std::string& dir, LoadedModel llm,
                                           std::shared_ptr<const SentenceEncoder> encoder);
  // The history encoder a plug-in folder (or training run folder) was made with, as
  // load_sentence_encoder names it ("llm:last/mean"), when its manifest records one: the LLM
  // encoders are rebuilt from that name and the LLM. "" when not recorded (BERT-family encoders,
  // which load from their own folder, and plug-ins saved before the name was recorded).
  static std::string recorded_encoder(const std::string& dir);
  ~PersonaPlug();

  // Writes the plug-in folder atomically (a crash leaves the old folder or the new one).
  void save(const std::string& dir) const;

  // Encodes the whole history once (the most recent config().max_history items).
  UserEmbedding embed_user(const std::vector<HistoryItem>& history) const;
  // The same for many users in one pass of the encoder (their items share batches): equal to
  // embed_user() per user up to float rounding, and faster when histories are short.
  std::vector<UserEmbedding> embed_users(
      const std::vector<std::vector<HistoryItem>>& histories) const;
  // Soft tokens for one request: (n_soft, d) in float32, [I] then [P...].
  torch::Tensor soft_tokens(const UserEmbedding& user, const std::string& input) const;
  // Aggregation weights over the user's items for this input (empty without persona token).
  std::vector<float> attention_weights(const UserEmbedding& user, const std::string& input) const;

  GenerationResult generate(const UserEmbedding& user, const std::string& input,
                            const GenerationOptions& options) const;
  // Many users at once, each with its own soft tokens; runs as one batch.
  std::vector<GenerationResult> generate(const std::vector<UserRequest>& requests,
                                         const GenerationOptions& options) const;
  // Continuous batching: starts `requests` as one group of `batch` (GenerationBatch::add), to
  // decode alongside whatever else runs in it; its results equal generate(requests, options).
  // `batch` must run this plug-in's LLM (MismatchError otherwise). Returns the group's id.
  uint64_t add_to(GenerationBatch& batch, const std::vector<UserRequest>& requests,
                  const GenerationOptions& options) const;

  // Rank classification: the log-probability of each candidate continuation (token ids) after
  // each request's personalized prompt, result[r][c] (Generator::score_candidates semantics).
  std::vector<std::vector<double>> score_candidates(
      const std::vector<UserRequest>& requests,
      const std::vector<std::vector<int>>& candidates) const;

  // The LLM inputs of a batch of requests (what generate() feeds the model): [BOS], soft tokens
  // and prompt as embeddings, for custom decoding. (With query_source kPrompt, generate() and
  // score_candidates() read the prompt once; building the inputs here reads it twice.)
  std::vector<EmbeddedPrompt> embedded_prompts(const std::vector<UserRequest>& requests) const;

  // The frozen input vectors the aggregator compares the history with, before the trainable
  // adapter: (B, d_e) float32, unit rows. query_source kEncoder: the encoder's vectors of
  // query_text(input); kPrompt: the LLM's pooled final hidden states over [BOS] + the input's
  // prompt tokens (everything before the soft tokens).
  torch::Tensor query_vectors(const std::vector<std::string>& inputs) const;

  // The text of a history item under this plug-in's template.
  std::string item_text(const HistoryItem& item) const;
  // The part of a task input the input encoder sees (e.g. the description of a LaMP-2 input).
  std::string query_text(const std::string& input) const;
  // The LLM prompt tokens after [BOS][soft tokens]: input + answer_prefix.
  std::vector<int> prompt_ids(const std::string& input) const;

  const PluginConfig& config() const { return config_; }
  const LoadedModel& llm() const { return llm_; }
  // The frozen LLM behind the architecture-neutral interface (Llama family or T5).
  const LanguageModel& language_model() const;
  const SentenceEncoder& encoder() const { return *encoder_; }
  double soft_token_scale() const { return scale_; }
  // Identifies the plug-in weights (user embeddings record it).
  std::string fingerprint() const;

 private:
  // The trainer's access (src/plug/plugin_training.h): the trainable module, the fingerprint
  // refresh, the LLM input layout. Kept out of the public API.
  friend struct detail::PluginTraining;
  struct Impl;
  LoadedModel llm_;
  std::shared_ptr<const SentenceEncoder> encoder_;
  PluginConfig config_;
  double scale_ = 1.0;
  std::unique_ptr<Impl> impl_;
};

// The default history-item template of a task (labels included), e.g. LaMP_3:
// "{text} score: {score}". "" task -> "{text}".
std::string default_item_template(const std::string& task);
// Fills "{field}" placeholders from the item; throws InvalidArgument naming the item id and the
// field when the item lacks it.
std::string render_item_template(const std::string& templ, const HistoryItem& item);

}  // namespace pplug
