#include "cli/t5_generate.h"

#include <iostream>

#include "cli/cli_common.h"
#include "pplug/error.h"
#include "pplug/t5_generation.h"
#include "pplug/t5_io.h"

namespace pplug::cli {

void run_t5_generate(const T5GenerateRequest& r) {
  const ModelPrecision precision = parse_dtype(r.dtype);
  if (!precision.weight_type.empty()) {
    throw InvalidArgument("--dtype " + r.dtype + ": T5 models run in f32 or bf16 only yet");
  }
  ModelLoadOptions options;
  options.dtype = precision.compute;
  options.tokenizer_path = r.tokenizer;
  const auto loaded = load_t5_model(r.model, options);
  // As HF's T5 tokenizer: no BOS, EOS closes the encoder input.
  const auto prompt = loaded.tokenizer->encode(r.prompt, /*add_bos=*/false, /*add_eos=*/true);
  const std::vector<int64_t> input(prompt.begin(), prompt.end());
  T5GenerationOptions generation;
  generation.max_new_tokens = r.max_new_tokens;
  const auto generated = t5_generate_greedy(*loaded.model, {input}, generation).front();
  std::vector<int> text_ids;
  for (int64_t id : generated) {
    // Ids past the tokenizer (HF pads T5's embedding to 32128 rows) have no text.
    if (id < loaded.tokenizer->vocab_size()) text_ids.push_back(static_cast<int>(id));
  }
  std::cout << loaded.tokenizer->decode(text_ids) << "\n";
  if (r.print_ids) {
    std::string line;
    for (int id : prompt) line += std::to_string(id) + " ";
    for (int64_t id : generated) line += std::to_string(id) + " ";
    if (!line.empty()) line.pop_back();
    std::cout << line << "\n";
  }
}

}  // namespace pplug::cli
