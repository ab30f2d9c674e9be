// Does the aggregator select? For each question of a LaMP classification set, how much attention
// mass falls on the history items that carry the question's gold label, against the share of
// such items (what uniform weights give). Printed as one JSON line.
//
//   attention_probe --model M --questions Q --outputs O [--encoder llm:last]
//                   [--plugin DIR | --task LaMP_2 --item-template T] [--label-field tag]
//                   [--limit N]
//
// The "cos", "z" and "top" columns weigh the items by the frozen encoder's vectors alone (the
// item keys, see ItemVectors, against the query vector, no adapter): softmax(cos / T), softmax
// over standardized cosines / T, and uniform over the k most similar items. They tell whether
// the representation can select at all. "mass_plugin" (with --plugin) is the trained plug-in's
// own weights. "top1_gold" is the share of questions whose most similar item carries the gold
// label.
#include <pplug/error.h>
#include <pplug/lamp_data.h>
#include <pplug/model_io.h>
#include <pplug/persona_plug.h>
#include <pplug/sentence_encoder.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

namespace {

std::string arg(int argc, char** argv, const std::string& name, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == name) return argv[i + 1];
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string model_path = arg(argc, argv, "--model", "");
    const std::string questions_path = arg(argc, argv, "--questions", "");
    const std::string outputs_path = arg(argc, argv, "--outputs", "");
    if (model_path.empty() || questions_path.empty() || outputs_path.empty()) {
      std::cerr << "usage: attention_probe --model M --questions Q --outputs O [--encoder E] "
                   "[--plugin DIR | --item-template T] [--label-field F] [--limit N]\n";
      return 2;
    }
    const std::string encoder_name = arg(argc, argv, "--encoder", "llm:last");
    const std::string plugin_dir = arg(argc, argv, "--plugin", "");
    const std::string label_field = arg(argc, argv, "--label-field", "tag");
    const long limit = std::stol(arg(argc, argv, "--limit", "1000000"));

    pplug::LoadedModel llm = pplug::load_model(model_path);
    auto encoder = pplug::load_sentence_encoder(encoder_name, llm);
    std::shared_ptr<pplug::PersonaPlug> plug;
    if (!plugin_dir.empty()) {
      plug = pplug::PersonaPlug::load(plugin_dir, llm, encoder);
    } else {
      pplug::PluginConfig config;
      config.task = arg(argc, argv, "--task", "LaMP_2");
      config.item_template = arg(argc, argv, "--item-template", "");
      plug = std::make_shared<pplug::PersonaPlug>(llm, encoder, config);
    }
    const auto questions = pplug::lamp::read_questions(questions_path);
    std::map<std::string, std::string> gold;
    for (const auto& o : pplug::lamp::read_outputs(outputs_path).golds) gold[o.id] = o.output;

    const std::vector<double> temperatures = {1.0, 0.3, 0.1, 0.03};
    std::vector<double> mass(temperatures.size(), 0.0), zmass(temperatures.size(), 0.0);
    const std::vector<int64_t> top_ks = {1, 3, 5};
    std::vector<double> kmass(top_ks.size(), 0.0);
    double trained_mass = 0, share = 0, top1 = 0;
    long n = 0;
    for (const auto& q : questions) {
      if (n >= limit) break;
      const auto g = gold.find(q.id);
      if (g == gold.end() || q.profile.empty()) continue;
      std::vector<float> is_gold;
      for (const auto& item : q.profile) is_gold.push_back(item.get(label_field) == g->second);
      const pplug::UserEmbedding user = plug->embed_user(q.profile);
      // embed_user keeps the most recent max_history items, in order: the tail of the profile.
      const int64_t kept = user.num_items();
      is_gold.erase(is_gold.begin(), is_gold.end() - kept);
      double gold_share = 0;
      for (float v : is_gold) gold_share += v;
      share += gold_share / double(kept);
      if (plug->config().use_persona) {
        const auto w = plug->attention_weights(user, q.input);
        for (int64_t i = 0; i < kept; ++i) trained_mass += w[size_t(i)] * is_gold[size_t(i)];
      }
      const torch::Tensor query = plug->query_vectors({q.input})[0];             // (d_e)
      const torch::Tensor sim = user.item_keys().matmul(query).to(at::kDouble);  // (N)
      top1 += is_gold[size_t(sim.argmax().item<int64_t>())];
      for (size_t t = 0; t < temperatures.size(); ++t) {
        const torch::Tensor w = at::softmax(sim / temperatures[t], 0);
        for (int64_t i = 0; i < kept; ++i) mass[t] += w[i].item<double>() * is_gold[size_t(i)];
        // The same over similarities standardized across the user's items: the scale of the
        // cosines stops mattering, only their order and spread do.
        const torch::Tensor z = (sim - sim.mean()) / sim.std(/*unbiased=*/false).clamp_min(1e-6);
        const torch::Tensor zw = at::softmax(z / temperatures[t], 0);
        for (int64_t i = 0; i < kept; ++i) zmass[t] += zw[i].item<double>() * is_gold[size_t(i)];
      }
      for (size_t k = 0; k < top_ks.size(); ++k) {
        const int64_t kk = std::min<int64_t>(top_ks[k], kept);
        const torch::Tensor idx = std::get<1>(sim.topk(kk));
        for (int64_t i = 0; i < kk; ++i) {
          kmass[k] += is_gold[size_t(idx[i].item<int64_t>())] / double(kk);
        }
      }
      ++n;
    }
    if (n == 0) throw pplug::InvalidArgument("no question with a gold and a profile");
    std::printf("{\"questions\": %ld, \"gold_item_share\": %.4f, \"top1_gold\": %.4f", n, share / n,
                top1 / n);
    for (size_t t = 0; t < temperatures.size(); ++t) {
      std::printf(", \"mass_cos_T%g\": %.4f", temperatures[t], mass[t] / n);
    }
    for (size_t t = 0; t < temperatures.size(); ++t) {
      std::printf(", \"mass_z_T%g\": %.4f", temperatures[t], zmass[t] / n);
    }
    for (size_t k = 0; k < top_ks.size(); ++k) {
      std::printf(", \"mass_top%ld\": %.4f", long(top_ks[k]), kmass[k] / n);
    }
    if (!plugin_dir.empty()) std::printf(", \"mass_plugin\": %.4f", trained_mass / n);
    std::printf("}\n");
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "attention_probe: " << e.what() << "\n";
    return 1;
  }
}
