#include "train/train_data.h"

#include <ATen/ATen.h>

#include <random>
#include <unordered_map>

#include "plug/plugin_module.h"
#include "plug/plugin_training.h"
#include "pplug/error.h"
#include "pplug/lamp_metrics.h"
#include "util/log.h"

namespace pplug::detail {

TrainData prepare_train_data(const PersonaPlug& plug, const LabelledSplit& split,
                             const TrainOptions& options, const Shard& shard) {
  if (split.questions.empty()) throw InvalidArgument("training set is empty");
  std::unordered_map<std::string, const lamp::Output*> gold_by_id;
  for (const auto& g : split.golds) gold_by_id.emplace(g.id, &g);
  std::vector<std::string> missing;
  for (const auto& q : split.questions) {
    if (gold_by_id.count(q.id) == 0 && missing.size() < 5) missing.push_back(q.id);
  }
  if (!missing.empty()) {
    std::string ids;
    for (const auto& id : missing) ids += (ids.empty() ? "" : ", ") + id;
    throw InvalidArgument("training questions without a gold output: " + ids);
  }
  // Golds the scorer would refuse (a LaMP-3 rating "banana") are refused here too.
  if (!plug.config().task.empty()) {
    lamp::check_golds(lamp::parse_task(plug.config().task), split.golds, "training golds");
  }
  const Tokenizer& tok = *plug.llm().tokenizer;
  const int max_history = plug.config().max_history;

  // Distinct history texts are encoded once, however many questions share them.
  std::unordered_map<std::string, int64_t> text_row;
  std::vector<std::string> texts, inputs;
  std::vector<int64_t> input_rows;  // the question of each entry of `inputs`
  TrainData data;
  for (size_t qi = 0; qi < split.questions.size(); ++qi) {
    const auto& q = split.questions[qi];
    TrainExample ex;
    ex.query = static_cast<int64_t>(qi);
    ex.local = shard.owns(qi);
    const size_t first =
        q.profile.size() > static_cast<size_t>(max_history) ? q.profile.size() - max_history : 0;
    for (size_t i = first; i < q.profile.size(); ++i) {
      if (!ex.local) {
        ex.items.push_back(-1);  // only the count matters here: the copies' drop draws use it
        continue;
      }
      const std::string text = plug.item_text(q.profile[i]);
      const auto [it, inserted] = text_row.emplace(text, static_cast<int64_t>(texts.size()));
      if (inserted) texts.push_back(text);
      ex.items.push_back(it->second);
    }
    if (ex.local) {
      inputs.push_back(q.input);
      input_rows.push_back(ex.query);
      ex.prompt = plug.prompt_ids(q.input);
    }
    ex.target = tok.encode(gold_by_id.at(q.id)->output);
    const bool eos = plug.config().end_with_eos;
    const int room = std::max(1, options.max_target_tokens - (eos ? 1 : 0));
    if (static_cast<int>(ex.target.size()) > room) ex.target.resize(room);
    if (eos) ex.target.push_back(tok.eos_id());
    if (ex.target.empty()) {
      throw InvalidArgument("training question '" + q.id + "' has an empty gold output");
    }
    data.examples.push_back(std::move(ex));
  }
  PPLUG_LOG_INFO("encoding {} distinct history items and {} inputs with the frozen encoder",
                 texts.size(), inputs.size());
  if (texts.empty()) {
    data.item_vectors = at::zeros({0, plug.encoder().dim()});
  } else {
    ItemVectors encoded = plug.encoder().encode_items(texts);
    data.item_vectors = std::move(encoded.values);
    data.item_keys = std::move(encoded.keys);
  }
  const auto questions = static_cast<int64_t>(split.questions.size());
  if (detail::PluginTraining::module(plug).input_encoder_copy()) {
    data.query_texts.resize(static_cast<size_t>(questions));
    for (size_t i = 0; i < inputs.size(); ++i) {
      data.query_texts[static_cast<size_t>(input_rows[i])] = plug.query_text(inputs[i]);
    }
  } else if (static_cast<int64_t>(inputs.size()) == questions) {
    data.query_vectors = plug.query_vectors(inputs);  // frozen too: computed once per question
  } else {
    // Other ranks' rows stay zero and are never read.
    data.query_vectors = at::zeros({questions, plug.encoder().dim()});
    if (!inputs.empty()) {
      data.query_vectors.index_copy_(0, at::tensor(input_rows, at::kLong),
                                     plug.query_vectors(inputs));
    }
  }

  // History dropout (reference code): extra copies with a random 1..50% of the items removed.
  std::mt19937_64 rng(options.seed * 0x9E3779B97F4A7C15ull + 17);
  const size_t originals = data.examples.size();
  for (int copy = 0; copy < options.history_dropout_copies; ++copy) {
    for (size_t e = 0; e < originals; ++e) {
      const TrainExample& base = data.examples[e];
      if (base.items.size() <= 2) continue;
      const double share = 0.01 + 0.49 * static_cast<double>(rng() >> 11) * 0x1.0p-53;
      const size_t drop = std::max<size_t>(1, static_cast<size_t>(share * base.items.size()));
      std::vector<int64_t> kept = base.items;
      for (size_t k = 0; k < drop && kept.size() > 1; ++k) {
        kept.erase(kept.begin() + static_cast<int64_t>(rng() % kept.size()));
      }
      TrainExample ex = base;
      ex.items = std::move(kept);
      data.examples.push_back(std::move(ex));
    }
  }
  return data;
}

}  // namespace pplug::detail
