// Small helpers shared by the CLI verbs.
#pragma once

#include <torch/types.h>
#include <CLI/CLI.hpp>

#include <string>

#include "pplug/generation.h"
#include "pplug/model_io.h"
#include "pplug/plugin_config.h"

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
// Argument checking, in one place for every verb: each flag that sizes memory or threads (or
// must be a finite number) gets one of these validators, so CLI11 refuses a bad value while
// parsing, before any file is read, with "--flag: must be ..., got VALUE".
namespace limits {
inline constexpr int64_t kMaxBeams = kMaxNumBeams;            // --beams (the library's bound)
inline constexpr int64_t kMaxNewTokens = 1 << 20;             // --max-new-tokens, --new-tokens
inline constexpr int64_t kMaxPromptTokens = 1 << 20;          // --prompt-tokens, --max-length
inline constexpr int64_t kMaxTopK = 1 << 24;                  // sampling --top-k (0 = all)
inline constexpr int64_t kMaxItems = 100000;                  // --k, --max-history, plug-in --top-k
inline constexpr int64_t kMaxBatch = 4096;                    // --batch-size
inline constexpr int64_t kMaxRepeats = 1000;                  // bench --repeats
inline constexpr int64_t kMaxEpochs = 100000;                 // train --epochs
inline constexpr int64_t kMaxGradAccum = 65536;               // train --grad-accum
inline constexpr int64_t kMaxCopies = 1000;                   // train --history-dropout-copies
inline constexpr int64_t kMaxSoftTokens = kMaxPersonaTokens;  // --persona-tokens
}  // namespace limits

// The most intra-op threads a verb accepts: 4 x the hardware threads (1024 when unknown), at
// most 1024.
int max_threads();
// An integer in [lo, hi].
CLI::Validator int_in(int64_t lo, int64_t hi);
// A finite real number in [lo, hi] ((lo, hi] when lo_open); hi = infinity means no upper bound
// (the value must still be finite: inf and nan are refused).
CLI::Validator real_in(double lo, double hi, bool lo_open = false);
// --threads (0 = all cores), bounded by max_threads().
CLI::Option* add_threads_option(CLI::App* cmd, int& threads);

// "f32" / "bf16" / "f16" / "q8_0" / "q4_0"; throws InvalidArgument otherwise.
ModelPrecision parse_dtype(const std::string& name);
// Sets libtorch's intra-op threads (0 = leave the default: OMP_NUM_THREADS or all cores).
void set_threads(int threads);
// Adds --model (required), --tokenizer and --encoder: the frozen LLM and history encoder every
// Persona-Plug verb (plugin-init, embed, train, eval) takes.
void add_llm_options(CLI::App* cmd, std::string& model, std::string& tokenizer,
                     std::string& encoder);
// Refuses an output folder (named by `flag`) that exists as a file or as a non-empty folder: the
// verbs that write a model folder write a new one, never into another model's files.
void check_new_output_folder(const std::string& flag, const std::string& path);
// Refuses an output file path that already exists (a file or a folder).
void check_new_output_file(const std::string& flag, const std::string& path);
// Loads --model with an optional --tokenizer override.
LoadedModel load_cli_model(const std::string& model, const std::string& tokenizer,
                           const std::string& dtype, bool need_tokenizer = true);

}  // namespace pplug::cli
