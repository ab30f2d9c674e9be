// Personalized generation for two users in one batch with Persona-Plug.
//   generate MODEL_PATH [PLUGIN_DIR]
// Without PLUGIN_DIR a fresh (untrained) plug-in is used: the answers then differ between users
// only through random soft tokens, but the calls are the same as with a trained one.
#include <pplug/error.h>
#include <pplug/model_io.h>
#include <pplug/persona_plug.h>
#include <pplug/sentence_encoder.h>

#include <iostream>
#include <memory>

namespace {

int run(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: generate MODEL_PATH [PLUGIN_DIR]\n";
    return 2;
  }
  const pplug::LoadedModel llm = pplug::load_model(argv[1]);
  auto encoder = pplug::load_sentence_encoder("", llm);  // the LLM is its own history encoder

  std::shared_ptr<pplug::PersonaPlug> plug;
  if (argc > 2) {
    plug = pplug::PersonaPlug::load(argv[2], llm, encoder);
  } else {
    pplug::PluginConfig config;
    config.task = "LaMP_7";  // tweet paraphrasing; history items are the user's tweets
    plug = std::make_shared<pplug::PersonaPlug>(llm, encoder, config, /*seed=*/1);
  }

  // Two users with different histories; each is embedded once and can be reused for any query.
  const pplug::UserEmbedding anna =
      plug->embed_user({pplug::text_item("I played with my dog in the park."),
                        pplug::text_item("The sun was warm.")});
  const pplug::UserEmbedding ben = plug->embed_user(
      {pplug::text_item("The dragon was big and scary."), pplug::text_item("Tom ran away fast.")});

  // One batch, each request with its own user's soft tokens.
  const std::string input =
      "Paraphrase the following tweet without any explanation before or after it: "
      "Once upon a time there was a little girl.";
  pplug::GenerationOptions options;
  options.max_new_tokens = 32;
  options.stop_strings = {"\n"};  // one line each
  const auto results = plug->generate({{&anna, input}, {&ben, input}}, options);

  std::cout << "anna:" << results[0].text << "\n";
  std::cout << "ben:" << results[1].text << "\n";
  // An untrained plug-in may not change a tiny LLM's words, but the soft tokens differ per user.
  const auto diff = plug->soft_tokens(anna, input) - plug->soft_tokens(ben, input);  // (n_soft, d)
  std::cout << "soft-token difference (L2): " << diff.norm().item<float>() << "\n";
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
