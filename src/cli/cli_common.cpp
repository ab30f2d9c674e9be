#include "cli/cli_common.h"

#include <ATen/Parallel.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <thread>

#include "cli/commands.h"
#include "pplug/error.h"
#include "util/compute_threads.h"

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
                  "The frozen LLM: HF folder (Llama family or T5), GGUF file, llama2.c .bin, or a "
                  "folder with one .bin and .model")
      ->required();
  cmd->add_option("--tokenizer", tokenizer,
                  std::string(kTokenizerKinds) + " (default: beside --model)");
  cmd->add_option("--encoder", encoder,
                  "History encoder: an HF BERT folder, llm (the LLM itself, mean pooling), "
                  "llm:last (last-token pooling) or llm:VALUES/KEYS (e.g. llm:last/mean: values "
                  "last-token pooled, keys and queries mean-pooled); a plug-in needs the one it "
                  "was made with, and uses it when --encoder is not given");
}

int max_threads() {
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1024 : static_cast<int>(std::min(1024u, 4 * hw));
}

CLI::Validator int_in(int64_t lo, int64_t hi) {
  const std::string range = "[" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  return CLI::Validator(
      [lo, hi, range](std::string& text) -> std::string {
        errno = 0;
        char* end = nullptr;
        const long long v = std::strtoll(text.c_str(), &end, 10);
        if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE) {
          return "must be an integer in " + range + ", got '" + text + "'";
        }
        if (v < lo || v > hi) return "must be in " + range + ", got " + text;
        return {};
      },
      "INT in " + range);
}

CLI::Validator real_in(double lo, double hi, bool lo_open) {
  std::ostringstream r;
  r << (lo_open ? "(" : "[") << lo << ", " << (std::isinf(hi) ? "inf)" : "");
  if (!std::isinf(hi)) r << hi << "]";
  const std::string range = r.str();
  return CLI::Validator(
      [lo, hi, lo_open, range](std::string& text) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size()) {
          return "must be a number in " + range + ", got '" + text + "'";
        }
        if (!std::isfinite(v)) return "must be a finite number in " + range + ", got " + text;
        if (v < lo || (lo_open && v == lo) || v > hi)
          return "must be in " + range + ", got " + text;
        return {};
      },
      "NUMBER in " + range);
}

CLI::Option* add_threads_option(CLI::App* cmd, int& threads) {
  return cmd->add_option("--threads", threads, "Intra-op threads (0 = all cores)")
      ->check(int_in(0, max_threads()));
}

void set_threads(int threads) {
  if (threads < 0 || threads > max_threads()) {
    throw InvalidArgument("--threads must be in [0, " + std::to_string(max_threads()) + "], got " +
                          std::to_string(threads));
  }
  if (threads == 0) {
    // libtorch defaults to one thread on these machines; use every core unless told otherwise.
    if (std::getenv("OMP_NUM_THREADS") == nullptr) {
      at::set_num_threads(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
    }
    return;
  }
  at::set_num_threads(threads);
  detail::set_blas_threads(threads);
}

void check_new_output_folder(const std::string& flag, const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (std::filesystem::is_directory(status)) {
    if (!std::filesystem::is_empty(path, ec)) {
      throw InvalidArgument(flag + " " + path +
                            ": the folder exists and is not empty; give a new (or empty) folder");
    }
  } else if (std::filesystem::exists(status)) {
    throw InvalidArgument(flag + " " + path + ": exists and is a file; " + flag +
                          " names a folder to create");
  }
}

void check_new_output_file(const std::string& flag, const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (std::filesystem::is_directory(status)) {
    throw InvalidArgument(flag + " " + path + ": is a folder; " + flag + " names a file to create");
  }
  if (std::filesystem::exists(status)) {
    throw InvalidArgument(flag + " " + path + ": exists and is a file; give a new path");
  }
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
