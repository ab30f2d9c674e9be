// pplug generate: continue a prompt with a frozen model.
#include <iostream>
#include <memory>

#include "cli/cli_common.h"
#include "cli/commands.h"
#include "pplug/generation.h"

namespace pplug::cli {
namespace {

struct GenerateArgs {
  std::string model, tokenizer, prompt, dtype = "f32";
  GenerationOptions gen;
  int threads = 0;
  bool print_ids = false;
  bool stream = false;
  std::vector<std::string> stop;
};

void run_generate(const GenerateArgs& a) {
  set_threads(a.threads);
  const auto loaded = load_cli_model(a.model, a.tokenizer, a.dtype);
  Generator generator(loaded.model, loaded.tokenizer);
  GenerationOptions options = a.gen;
  options.stop_strings = a.stop;
  if (a.stream) {
    options.on_text = [](size_t, const std::string& delta) {
      std::cout << delta << std::flush;
      return true;
    };
  }
  const auto result = generator.generate(a.prompt, options);
  if (!a.stream) std::cout << result.text;
  std::cout << "\n";
  if (a.print_ids) {
    std::string line;
    for (int id : result.prompt_ids) line += std::to_string(id) + " ";
    for (int id : result.generated_ids) line += std::to_string(id) + " ";
    if (!line.empty()) line.pop_back();
    std::cout << line << "\n";
  }
}

}  // namespace

void register_generate(CLI::App& app) {
  auto args = std::make_shared<GenerateArgs>();
  auto* cmd = app.add_subcommand("generate", "Continue a prompt with a frozen LLM");
  cmd->add_option("--model", args->model,
                  "HF folder, llama2.c .bin, or a folder with one .bin and one .model")
      ->required();
  cmd->add_option("--prompt", args->prompt, "Prompt text (BOS is added)")->required();
  cmd->add_option("--tokenizer", args->tokenizer, "SentencePiece model (default: beside --model)");
  cmd->add_option("--max-new-tokens", args->gen.max_new_tokens, "Tokens to generate at most")
      ->capture_default_str();
  cmd->add_option("--temperature", args->gen.temperature, "0 = greedy")->capture_default_str();
  cmd->add_option("--top-k", args->gen.top_k, "Sample among the k best tokens (0 = all)");
  cmd->add_option("--top-p", args->gen.top_p, "Nucleus sampling mass (1 = off)");
  cmd->add_option("--beams", args->gen.num_beams, "Beam search width (1 = off)");
  cmd->add_option("--seed", args->gen.seed, "Sampling seed");
  cmd->add_option("--stop", args->stop, "Stop string (repeatable)");
  cmd->add_option("--threads", args->threads, "Intra-op threads (0 = all cores)");
  cmd->add_option("--dtype", args->dtype, "Compute dtype: f32 or bf16")->capture_default_str();
  cmd->add_flag("--print-ids", args->print_ids,
                "Print all token ids (BOS, prompt, generated) as the last line");
  cmd->add_flag("--stream", args->stream, "Print text as it is generated");
  cmd->callback([args] { run_generate(*args); });
}

}  // namespace pplug::cli
