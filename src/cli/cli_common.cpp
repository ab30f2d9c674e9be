#include "cli/cli_common.h"

#include <ATen/Parallel.h>

#include <thread>

#include "cli/commands.h"
#include "pplug/error.h"

namespace pplug::cli {

ModelPrecision parse_dtype(const std::string& name) {
  if (name == "f32" || name == "float32") return {torch::kFloat32, ""};
  if (name == "bf16" || name == "bfloat16") return {torch::kBFloat16, ""};
  // Smaller weight types: activations stay float32, the matrices are stored as asked.
  if (name == "f16" || name == "float16" || name == "q8_0" || name == "q4_0") {
    return {torch::kFloat32, name == "float16" ? "f16" : name};
  }
  throw InvalidArgument("--dtype must be f32, bf16, f16, q8_0 or q4_0, got '" + name + "'");
}

void add_llm_options(CLI::App* cmd, std::string& model, std::string& tokenizer,
                     std::string& encoder) {
  cmd->add_option("--model", model,
                  "The frozen LLM: HF folder, llama2.c .bin, or a folder with one .bin and .model")
      ->required();
  cmd->add_option("--tokenizer", tokenizer,
                  std::string(kTokenizerKinds) + " (default: beside --model)");
  cmd->add_option("--encoder", encoder,
                  "History encoder: an HF BERT folder, llm (the LLM itself, the default) or "
                  "llm:last (last-token pooling); a plug-in needs the one it was made with");
}

void set_threads(int threads) {
  if (threads < 0) throw InvalidArgument("--threads must be >= 0");
  if (threads == 0) {
    // libtorch defaults to one thread on these machines; use every core unless told otherwise.
    if (std::getenv("OMP_NUM_THREADS") == nullptr) {
      at::set_num_threads(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
    }
    return;
  }
  at::set_num_threads(threads);
}

LoadedModel load_cli_model(const std::string& model, const std::string& tokenizer,
                           const std::string& dtype, bool need_tokenizer) {
  ModelLoadOptions options;
  const ModelPrecision precision = parse_dtype(dtype);
  options.dtype = precision.compute;
  options.weight_type = precision.weight_type;
  options.tokenizer_path = tokenizer;
  options.load_tokenizer = need_tokenizer;
  return load_model(model, options);
}

}  // namespace pplug::cli
