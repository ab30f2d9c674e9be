// Each verb of the `pplug` tool lives in its own cmd_<verb>.cpp and registers itself here.
#pragma once

#include <CLI/CLI.hpp>

namespace pplug::cli {

// What every --tokenizer reads: the file kinds pplug::Tokenizer takes.
inline constexpr const char* kTokenizerKinds =
    "SentencePiece .model, tokenizer.json (or its folder), or a GGUF vocab";

void register_tokenize(CLI::App& app);
void register_generate(CLI::App& app);
void register_convert(CLI::App& app);
void register_bench(CLI::App& app);
void register_random_model(CLI::App& app);
void register_score(CLI::App& app);
void register_retrieve(CLI::App& app);
void register_prompt(CLI::App& app);
void register_synth(CLI::App& app);
void register_train(CLI::App& app);
void register_eval(CLI::App& app);
void register_embed(CLI::App& app);
void register_plugin_init(CLI::App& app);
void register_serve(CLI::App& app);

}  // namespace pplug::cli
