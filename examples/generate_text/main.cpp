// Smallest use of the runtime: load a model, generate a continuation, stream it to stdout.
//   generate_text MODEL_PATH "Once upon a time"
#include <pplug/generation.h>
#include <pplug/model_io.h>

#include <iostream>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: generate_text MODEL_PATH PROMPT\n";
    return 2;
  }
  const pplug::LoadedModel loaded = pplug::load_model(argv[1]);
  pplug::Generator generator(pplug::language_model_of(loaded), loaded.tokenizer);
  pplug::GenerationOptions options;
  options.max_new_tokens = 48;
  options.on_text = [](size_t, const std::string& text) {
    std::cout << text << std::flush;
    return true;
  };
  std::cout << argv[2];
  generator.generate(argv[2], options);
  std::cout << "\n";
  return 0;
}
