// pplug convert: any model pplug reads -> an HF folder, a GGUF file (optionally quantized) or a
// llama2.c checkpoint.
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/cli_common.h"
#include "cli/commands.h"
#include "pplug/error.h"
#include "pplug/model_io.h"

namespace pplug::cli {
namespace {

namespace fs = std::filesystem;

std::string format_of(const std::string& requested, const std::string& out) {
  if (!requested.empty()) return requested;
  const std::string ext = fs::path(out).extension().string();
  if (ext == ".gguf") return "gguf";
  if (ext == ".bin") return "llama2c";
  return "hf";
}

}  // namespace

void register_convert(CLI::App& app) {
  struct Args {
    std::string model, out, tokenizer, format, dtype;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "convert",
      "Convert a model to an HF folder, a GGUF file (f32/f16/bf16/q8_0/q4_0) or a "
      "llama2.c checkpoint");
  cmd->add_option("--model", args->model,
                  "Any model pplug loads: llama2.c .bin, HF folder or GGUF file")
      ->required();
  cmd->add_option("--out", args->out,
                  "Output: a new (or empty) folder (HF), or a new .gguf or .bin (llama2.c) "
                  "file, written atomically")
      ->required();
  cmd->add_option("--format", args->format, "hf, gguf or llama2c (default: from --out's extension)")
      ->check(CLI::IsMember({"hf", "gguf", "llama2c"}));
  cmd->add_option("--dtype", args->dtype,
                  "GGUF only: how matrices and the token embedding are stored: f32 (default), "
                  "f16, bf16, q8_0 or q4_0 (llama.cpp's block layouts; rows not a multiple of 32 "
                  "long fall back to f16)")
      ->check(CLI::IsMember({"f32", "f16", "bf16", "q8_0", "q4_0"}));
  cmd->add_option("--tokenizer", args->tokenizer,
                  "Tokenizer to put in: for HF, a SentencePiece .model or tokenizer.json (or its "
                  "folder); for GGUF, a SentencePiece .model, a byte-level BPE tokenizer.json "
                  "(or its folder) or a GGUF with a SentencePiece vocabulary (default: the "
                  "model's own, when it has one of those)");
  cmd->callback([args] {
    const std::string format = format_of(args->format, args->out);
    if (!args->dtype.empty() && format != "gguf") {
      throw InvalidArgument("--dtype " + args->dtype +
                            ": only GGUF output is stored quantized or "
                            "in half precision (" +
                            format + " is written in float32)");
    }
    if (format == "hf") {
      check_new_output_folder("--out", args->out);
    } else {
      check_new_output_file("--out", args->out);
    }
    const RawModel raw = read_model(args->model);
    if (!raw.quantized_type.empty() && format != "gguf") {
      std::cerr << "pplug: note: " << args->model << " is " << raw.quantized_type
                << "; writing its dequantized float32 weights\n";
    }
    std::string tok = args->tokenizer;
    if (tok.empty() && format != "llama2c") {
      try {
        tok = find_tokenizer(args->model);
      } catch (const FormatError& e) {
        std::cerr << "pplug: warning: no tokenizer copied: " << e.what() << "\n";
      }
    }
    if (format == "gguf") {
      const std::string type = args->dtype.empty() ? "f32" : args->dtype;
      try {
        save_gguf_model(raw, args->out, type, tok);
      } catch (const InvalidArgument& e) {
        // A tokenizer found beside the model that GGUF cannot hold (a WordPiece or
        // SentencePiece-style tokenizer.json): the model is still written, without it. One the
        // user named is an error.
        if (!args->tokenizer.empty() || tok.empty()) throw;
        std::cerr << "pplug: warning: " << tok << " is not copied (" << e.what()
                  << "); pass --tokenizer when loading the GGUF\n";
        save_gguf_model(raw, args->out, type, "");
      }
    } else if (format == "llama2c") {
      save_llama2c(dequantized(raw), args->out);
    } else {
      save_hf_model(dequantized(raw), args->out, tok);
    }
    std::cout << "wrote " << args->out << "\n";
  });
}

}  // namespace pplug::cli
