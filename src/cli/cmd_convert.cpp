// pplug convert: llama2.c checkpoint -> Hugging Face folder.
#include <iostream>
#include <memory>

#include "cli/cli_common.h"
#include "cli/commands.h"
#include "pplug/error.h"
#include "pplug/model_io.h"

namespace pplug::cli {

void register_convert(CLI::App& app) {
  struct Args {
    std::string model, out, tokenizer;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("convert", "Convert a llama2.c checkpoint to an HF folder");
  cmd->add_option("--model", args->model, "llama2.c version-0 .bin")->required();
  cmd->add_option("--out", args->out, "Output folder")->required();
  cmd->add_option("--tokenizer", args->tokenizer,
                  "Tokenizer to copy in: SentencePiece .model or tokenizer.json (or its folder; a "
                  "GGUF vocab cannot be copied) (default: the .model beside --model)");
  cmd->callback([args] {
    check_new_output_folder("--out", args->out);
    const auto raw = read_llama2c(args->model);
    std::string tok = args->tokenizer;
    if (tok.empty()) {
      try {
        tok = find_tokenizer(args->model);
      } catch (const FormatError& e) {
        std::cerr << "pplug: warning: no tokenizer copied: " << e.what() << "\n";
      }
    }
    save_hf_model(raw, args->out, tok);
    std::cout << "wrote " << args->out << "\n";
  });
}

}  // namespace pplug::cli
