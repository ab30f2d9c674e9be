// Encode a user's history once with a Persona-Plug plug-in and save the result.
//   embed_user MODEL_PATH [PLUGIN_DIR] [OUT_FILE]
// Without PLUGIN_DIR a fresh (untrained) plug-in is made, which is enough to see the shapes.
#include <pplug/error.h>
#include <pplug/model_io.h>
#include <pplug/persona_plug.h>
#include <pplug/sentence_encoder.h>

#include <iostream>
#include <memory>

namespace {

int run(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: embed_user MODEL_PATH [PLUGIN_DIR] [OUT_FILE]\n";
    return 2;
  }
  const std::string plugin_dir = argc > 2 ? argv[2] : "";
  const std::string out = argc > 3 ? argv[3] : "user.safetensors";

  // The frozen LLM, and the LLM itself as the history encoder ("" = no BERT folder).
  const pplug::LoadedModel llm = pplug::load_model(argv[1]);
  auto encoder = pplug::load_sentence_encoder("", llm);

  // A trained plug-in folder, or a fresh one for LaMP-3 (product rating) with seed 0.
  std::shared_ptr<pplug::PersonaPlug> plug;
  if (!plugin_dir.empty()) {
    plug = pplug::PersonaPlug::load(plugin_dir, llm, encoder);
  } else {
    pplug::PluginConfig config;
    config.task = "LaMP_3";
    plug = std::make_shared<pplug::PersonaPlug>(llm, encoder, config, /*seed=*/0);
  }

  // A user's past reviews with their own scores (the LaMP-3 template keeps the label in:
  // "{text} score: {score}").
  std::vector<pplug::HistoryItem> history;
  const char* reviews[][2] = {{"The dog toy broke after one day.", "1"},
                              {"My cat loves this soft bed.", "5"},
                              {"The ball is fine but too small.", "3"}};
  for (const auto& r : reviews) {
    pplug::HistoryItem item = pplug::text_item(r[0], "r" + std::to_string(history.size()));
    item.set("score", r[1]);
    history.push_back(item);
  }
  std::cout << "item text: " << plug->item_text(history[0]) << "\n";

  // Once per user: the encoder's item vectors and the plug-in's projections of them.
  const pplug::UserEmbedding user = plug->embed_user(history);
  user.save(out);
  std::cout << "items: " << user.num_items() << "\n"
            << "item_vectors: " << user.item_vectors().sizes() << "\n"
            << "item_projections: " << user.item_projections().sizes() << "\n"
            << "saved: " << out << "\n";

  // Per query: the soft tokens [I][P] for one input, and how the history items were weighted.
  const std::string input = "What is the score of this review? review: a good toy for my dog";
  std::cout << "soft_tokens: " << plug->soft_tokens(user, input).sizes() << "\n";
  std::cout << "weights:";
  for (float w : plug->attention_weights(user, input)) std::cout << " " << w;
  std::cout << "\n";
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const pplug::Error& e) {  // bad paths, a plug-in made for another model, ...
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
