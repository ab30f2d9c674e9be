// Small helpers shared by the CLI verbs.
#pragma once

#include <torch/types.h>
#include <CLI/CLI.hpp>

#include <string>

#include "pplug/model_io.h"

namespace pplug::cli {

// The help text of every verb's --dtype.
inline constexpr const char* kDtypeHelp =
    "Weights: f32, bf16 (both also the compute dtype), or f16, q8_0, q4_0 (stored so, computed "
    "in f32)";

// What --dtype asks for: the compute dtype and how the matrices are stored ("" = the same).
struct ModelPrecision {
  torch::Dtype compute;
  std::string weight_type;
};
// "f32" / "bf16" / "f16" / "q8_0" / "q4_0"; throws InvalidArgument otherwise.
ModelPrecision parse_dtype(const std::string& name);
// Sets libtorch's intra-op threads (0 = leave the default: OMP_NUM_THREADS or all cores).
void set_threads(int threads);
// Adds --model (required), --tokenizer and --encoder: the frozen LLM and history encoder every
// Persona-Plug verb (plugin-init, embed, train, eval) takes.
void add_llm_options(CLI::App* cmd, std::string& model, std::string& tokenizer,
                     std::string& encoder);
// Loads --model with an optional --tokenizer override.
LoadedModel load_cli_model(const std::string& model, const std::string& tokenizer,
                           const std::string& dtype, bool need_tokenizer = true);

}  // namespace pplug::cli
