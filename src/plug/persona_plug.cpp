// PersonaPlug: user embedding, soft tokens and personalized generation.
#include "pplug/persona_plug.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <cmath>
#include <mutex>

#include "generation/framed_prompt.h"
#include "plug/llm_pooling.h"
#include "plug/plugin_impl.h"
#include "plug/plugin_training.h"
#include "plug/task_prompt.h"
#include "pplug/error.h"
#include "pplug/lamp_retrieval.h"
#include "pplug/lamp_task.h"

namespace pplug {

namespace detail {

double embedding_norm_scale(const LanguageModel& model) {
  // The soft tokens should look like tokens to the frozen LLM: give them the mean L2 norm of its
  // token-embedding rows (the reference hard-codes FlanT5-XXL's value, 539.97, instead).
  c10::InferenceMode guard;
  return model.embedding_matrix().to(at::kFloat).norm(2, 1).mean().item<double>();
}

}  // namespace detail

PersonaPlug::PersonaPlug(LoadedModel llm, std::shared_ptr<const SentenceEncoder> encoder,
                         PluginConfig config, uint64_t seed)
    : llm_(std::move(llm)), encoder_(std::move(encoder)), config_(std::move(config)) {
  const auto lm = language_model_of(llm_);
  if (!lm || !llm_.tokenizer) throw InvalidArgument("PersonaPlug needs an LLM with its tokenizer");
  if (!encoder_) throw InvalidArgument("PersonaPlug needs a sentence encoder");
  if (config_.encoder_dim != 0 && config_.encoder_dim != encoder_->dim()) {
    throw MismatchError("plug-in expects encoder dimension " + std::to_string(config_.encoder_dim) +
                        ", the encoder has " + std::to_string(encoder_->dim()));
  }
  if (config_.llm_dim != 0 && config_.llm_dim != lm->hidden_size()) {
    throw MismatchError("plug-in expects LLM hidden size " + std::to_string(config_.llm_dim) +
                        ", the model has " + std::to_string(lm->hidden_size()));
  }
  if (config_.max_history < 1) throw InvalidArgument("plug-in: max_history must be >= 1");
  if (config_.top_k < 0) {
    throw InvalidArgument("plug-in: top_k must be >= 0 (0 = all items), got " +
                          std::to_string(config_.top_k));
  }
  if (config_.num_persona_tokens < 0 || config_.num_persona_tokens > kMaxPersonaTokens) {
    throw InvalidArgument("plug-in: num_persona_tokens must be in [0, " +
                          std::to_string(kMaxPersonaTokens) + "], got " +
                          std::to_string(config_.num_persona_tokens));
  }
  if (!(std::isfinite(config_.temperature) && config_.temperature > 0)) {
    throw InvalidArgument("plug-in: temperature must be a finite number > 0, got " +
                          std::to_string(config_.temperature));
  }
  if (config_.max_input_tokens < 1) {
    throw InvalidArgument("plug-in: max_input_tokens must be >= 1");
  }
  config_.encoder_dim = encoder_->dim();
  config_.llm_dim = lm->hidden_size();
  if (config_.item_template.empty()) config_.item_template = default_item_template(config_.task);
  if (!config_.task.empty()) lamp::parse_task(config_.task);  // validates the name
  scale_ = detail::embedding_norm_scale(*lm);
  impl_ = std::make_unique<Impl>();
  torch::manual_seed(seed);
  impl_->module = detail::PluginModule(config_, scale_);
  impl_->lm = lm;
  impl_->generator = std::make_unique<Generator>(lm, llm_.tokenizer);
  impl_->start_ids = lm->prompt_start_ids(*llm_.tokenizer);
  impl_->end_ids = lm->prompt_end_ids(*llm_.tokenizer);
  impl_->answer_cue = llm_.tokenizer->encode(config_.answer_prefix);
  if (config_.query_source == QuerySource::kPrompt) {
    if (config_.placement != SoftTokenPlacement::kBeforeAnswer) {
      throw InvalidArgument(
          "plug-in: query source 'prompt' needs placement 'before-answer' (with the soft tokens "
          "after BOS the prompt's reading would depend on them)");
    }
    impl_->prompt_pooling = encoder_->pooling_over(*lm);
    impl_->read_once = lm->decoder_only() != nullptr;
    if (!impl_->prompt_pooling) {
      throw InvalidArgument(
          "plug-in: query source 'prompt' needs the LLM itself as history "
          "encoder (the query and the items must share one space); the "
          "encoder given is '" +
          encoder_->kind() + "' " + encoder_->fingerprint());
    }
  }
  if (config_.input_encoder == InputEncoder::kCopy) {
    if (config_.query_source != QuerySource::kEncoder) {
      throw InvalidArgument("plug-in: input encoder 'copy' needs query source 'encoder'");
    }
    const auto bert = encoder_->bert();
    if (!bert) {
      throw InvalidArgument(
          "plug-in: input encoder 'copy' needs a BERT-family encoder folder "
          "(--encoder DIR); the encoder given is '" +
          encoder_->kind() + "'");
    }
    impl_->module->attach_input_encoder(bert->copy());
  }
  detail::PluginTraining::refresh_fingerprint(*this);
}

PersonaPlug::~PersonaPlug() = default;

const LanguageModel& PersonaPlug::language_model() const { return *impl_->lm; }

std::string PersonaPlug::fingerprint() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->fingerprint;
}

std::string PersonaPlug::item_text(const HistoryItem& item) const {
  return render_item_template(config_.item_template, item);
}

std::string PersonaPlug::query_text(const std::string& input) const {
  if (config_.task.empty()) return input;
  std::string q = lamp::retrieval_query(lamp::parse_task(config_.task), input);
  return q.empty() ? input : q;
}

std::vector<int> PersonaPlug::prompt_ids(const std::string& input) const {
  return detail::task_prompt_ids(*llm_.tokenizer, input, config_.max_input_tokens,
                                 impl_->answer_cue);
}

std::vector<int> PersonaPlug::Impl::prompt_head(const PersonaPlug& plug, const std::string& input,
                                                std::vector<int>* prompt_out) const {
  std::vector<int> prompt = plug.prompt_ids(input);
  std::vector<int> head = start_ids;
  head.insert(head.end(), prompt.begin(),
              prompt.begin() + (detail::PluginTraining::soft_token_offset(plug, prompt.size()) -
                                static_cast<int64_t>(start_ids.size())));
  if (prompt_out != nullptr) *prompt_out = std::move(prompt);
  return head;
}

torch::Tensor PersonaPlug::query_vectors(const std::vector<std::string>& inputs) const {
  if (config_.query_source == QuerySource::kEncoder) {
    std::vector<std::string> queries;
    queries.reserve(inputs.size());
    for (const auto& input : inputs) queries.push_back(query_text(input));
    if (const auto& copy = impl_->module->input_encoder_copy()) {
      auto q = copy->encode(queries, /*as_query=*/true);
      return q / q.norm(2, -1, true).clamp_min(1e-12);
    }
    return encoder_->encode(queries, /*as_query=*/true);
  }
  std::vector<std::vector<int>> heads;
  heads.reserve(inputs.size());
  for (const auto& input : inputs) {
    // Framed as the history encoder frames its texts (T5: </s> last), so both share one space.
    heads.push_back(impl_->prompt_head(*this, input, nullptr));
    heads.back().insert(heads.back().end(), impl_->end_ids.begin(), impl_->end_ids.end());
  }
  return detail::encode_token_ids(*impl_->lm, heads, *impl_->prompt_pooling, /*batch_size=*/16);
}

UserEmbedding PersonaPlug::embed_user(const std::vector<HistoryItem>& history) const {
  return embed_users({history}).front();
}

std::vector<UserEmbedding> PersonaPlug::embed_users(
    const std::vector<std::vector<HistoryItem>>& histories) const {
  c10::InferenceMode guard;
  const std::string encoder_fp = encoder_->fingerprint();
  const std::string plugin_fp = fingerprint();
  std::vector<UserEmbedding> users(histories.size());
  std::vector<std::string> texts;
  for (size_t u = 0; u < histories.size(); ++u) {
    const auto& history = histories[u];
    const size_t keep = std::min<size_t>(history.size(), config_.max_history);
    // The most recent items come last in LaMP files.
    for (size_t i = history.size() - keep; i < history.size(); ++i) {
      texts.push_back(item_text(history[i]));
      users[u].item_ids_.push_back(history[i].id);
    }
    users[u].encoder_fingerprint_ = encoder_fp;
    users[u].plugin_fingerprint_ = plugin_fp;
  }
  if (texts.empty()) return users;
  const ItemVectors encoded = encoder_->encode_items(texts);
  const auto& vectors = encoded.values;
  const auto projections = impl_->module->project_items(vectors);
  int64_t row = 0;
  for (auto& user : users) {
    const auto n = static_cast<int64_t>(user.item_ids_.size());
    if (n == 0) continue;
    user.item_vectors_ = vectors.narrow(0, row, n).clone();
    user.item_projections_ = projections.narrow(0, row, n).clone();
    if (encoded.keys.defined()) user.item_keys_ = encoded.keys.narrow(0, row, n).clone();
    row += n;
  }
  return users;
}

torch::Tensor PersonaPlug::soft_tokens(const UserEmbedding& user, const std::string& input) const {
  return impl_->soft_tokens_batch(*this, {UserRequest{&user, input}}).tokens[0];
}

std::vector<float> PersonaPlug::attention_weights(const UserEmbedding& user,
                                                  const std::string& input) const {
  const auto out = impl_->soft_tokens_batch(*this, {UserRequest{&user, input}});
  if (!out.weights.defined()) return {};
  auto w = out.weights[0].narrow(0, 0, user.num_items()).contiguous();
  return std::vector<float>(w.data_ptr<float>(), w.data_ptr<float>() + w.numel());
}

std::pair<std::vector<EmbeddedPrompt>, PromptTail> PersonaPlug::Impl::read_once_prompts(
    const PersonaPlug& plug, const std::vector<UserRequest>& requests,
    std::vector<std::vector<int>>* prompt_ids_out) const {
  c10::InferenceMode guard;
  const LanguageModel& model = *lm;
  std::vector<EmbeddedPrompt> heads;
  heads.reserve(requests.size());
  for (const auto& request : requests) {
    std::vector<int> prompt;
    const auto head = prompt_head(plug, request.input, &prompt);
    auto t = at::tensor(std::vector<int64_t>(head.begin(), head.end()), at::kLong);
    heads.push_back({model.embed(t.unsqueeze(0)).squeeze(0), prompt.back()});
    if (prompt_ids_out != nullptr) prompt_ids_out->push_back(std::move(prompt));
  }
  const auto cue_ids = std::vector<int64_t>(answer_cue.begin(), answer_cue.end());
  at::Tensor cue = cue_ids.empty() ? at::Tensor() : model.embed(at::tensor(cue_ids, at::kLong));
  PromptTail tail;
  tail.length = module->num_soft_tokens() + static_cast<int64_t>(cue_ids.size());
  tail.make = [this, &plug, &requests, cue](const torch::Tensor& hidden, const torch::Tensor& mask,
                                            const std::vector<size_t>& rows) {
    std::vector<UserRequest> subset;
    subset.reserve(rows.size());
    for (size_t r : rows) subset.push_back(requests[r]);
    const auto query = detail::pool_hidden(hidden, mask, *prompt_pooling);
    auto soft = soft_tokens_batch(plug, subset, query).tokens.to(hidden.scalar_type());
    if (!cue.defined()) return soft;
    const auto R = static_cast<int64_t>(rows.size());
    return at::cat({soft, cue.unsqueeze(0).expand({R, cue.size(0), cue.size(1)})}, 1);
  };
  return {std::move(heads), std::move(tail)};
}

GenerationResult PersonaPlug::generate(const UserEmbedding& user, const std::string& input,
                                       const GenerationOptions& options) const {
  return generate(std::vector<UserRequest>{{&user, input}}, options).front();
}

std::vector<EmbeddedPrompt> PersonaPlug::embedded_prompts(
    const std::vector<UserRequest>& requests) const {
  return impl_->embedded_prompts(*this, requests, nullptr);
}

std::vector<EmbeddedPrompt> PersonaPlug::Impl::embedded_prompts(
    const PersonaPlug& plug, const std::vector<UserRequest>& requests,
    std::vector<std::vector<int>>* prompt_ids_out) const {
  if (requests.empty()) return {};
  c10::InferenceMode guard;
  const auto soft = soft_tokens_batch(plug, requests).tokens;  // (B, n_soft, d)
  std::vector<EmbeddedPrompt> prompts;
  prompts.reserve(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    auto ids = plug.prompt_ids(requests[i].input);
    prompts.push_back({detail::PluginTraining::build_prefix(plug, soft[i], ids), ids.back()});
    if (prompt_ids_out != nullptr) prompt_ids_out->push_back(std::move(ids));
  }
  return prompts;
}

std::vector<GenerationResult> PersonaPlug::generate(const std::vector<UserRequest>& requests,
                                                    const GenerationOptions& options) const {
  if (requests.empty()) return {};
  std::vector<std::vector<int>> ids;
  std::vector<GenerationResult> results;
  if (impl_->read_once) {
    const auto [heads, tail] = impl_->read_once_prompts(*this, requests, &ids);
    results = impl_->generator->generate_embedded(heads, options, tail);
  } else {
    results = impl_->generator->generate_embedded(impl_->embedded_prompts(*this, requests, &ids),
                                                  options);
  }
  for (size_t i = 0; i < results.size(); ++i) {
    results[i].prompt_ids = detail::framed_prompt(*impl_->lm, *llm_.tokenizer, ids[i]);
  }
  return results;
}

uint64_t PersonaPlug::add_to(GenerationBatch& batch, const std::vector<UserRequest>& requests,
                             const GenerationOptions& options) const {
  const LanguageModel& runs = batch.generator().model();
  const bool same = &runs == impl_->lm.get() || (runs.decoder_only() != nullptr &&
                                                 runs.decoder_only() == impl_->lm->decoder_only());
  if (!same) {
    throw MismatchError("PersonaPlug::add_to: the batch runs another LLM than this plug-in's");
  }
  if (requests.empty()) throw InvalidArgument("PersonaPlug::add_to: no requests given");
  std::vector<std::vector<int>> ids;
  auto framed = [&] {
    for (auto& i : ids) i = detail::framed_prompt(*impl_->lm, *llm_.tokenizer, i);
    return std::move(ids);
  };
  if (impl_->read_once) {
    const auto [heads, tail] = impl_->read_once_prompts(*this, requests, &ids);
    return batch.add(heads, options, &tail, framed());
  }
  const auto prompts = impl_->embedded_prompts(*this, requests, &ids);
  return batch.add(prompts, options, nullptr, framed());
}

std::vector<std::vector<double>> PersonaPlug::score_candidates(
    const std::vector<UserRequest>& requests,
    const std::vector<std::vector<int>>& candidates) const {
  if (requests.empty()) return {};
  if (impl_->read_once) {
    const auto [heads, tail] = impl_->read_once_prompts(*this, requests, nullptr);
    return impl_->generator->score_candidates(heads, candidates, tail);
  }
  return impl_->generator->score_candidates(impl_->embedded_prompts(*this, requests, nullptr),
                                            candidates);
}

}  // namespace pplug
