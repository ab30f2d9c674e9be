// pplug embed: encode a user's whole history once with a plug-in and save the UserEmbedding, so
// that personalized queries (generate --plugin --user) need no history encoding.
#include <nlohmann/json.hpp>

#include <chrono>
#include <iostream>
#include <memory>

#include "cli/cli_common.h"
#include "cli/cli_plugin.h"
#include "cli/commands.h"

namespace pplug::cli {
namespace {

struct EmbedArgs {
  std::string model, tokenizer, encoder, plugin, history, id, task, out, dtype = "f32";
  int threads = 0;
};

void run_embed(const EmbedArgs& a) {
  set_threads(a.threads);
  const auto start = std::chrono::steady_clock::now();
  const auto llm = load_cli_model(a.model, a.tokenizer, a.dtype);
  const auto plug = load_cli_plugin(a.plugin, llm, a.encoder);
  check_plugin_task(*plug, a.task);
  const std::string task = a.task.empty() ? plug->config().task : a.task;
  const HistoryFile history = read_history_file(a.history, a.id, task);
  const UserEmbedding user = plug->embed_user(history.items);
  user.save(a.out);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const nlohmann::json summary = {
      {"out", a.out},
      {"items", user.num_items()},
      {"dims",
       {{"item_vectors", plug->config().encoder_dim},
        {"item_projections", plug->config().num_persona_tokens * plug->config().llm_dim}}},
      {"seconds", seconds}};
  std::cout << summary.dump() << "\n";
}

}  // namespace

void register_embed(CLI::App& app) {
  auto args = std::make_shared<EmbedArgs>();
  auto* cmd = app.add_subcommand(
      "embed", "Encode a user's history with a plug-in and save the user embedding");
  add_llm_options(cmd, args->model, args->tokenizer, args->encoder);
  cmd->add_option("--plugin", args->plugin, "Plug-in folder (manifest.json, plugin.safetensors)")
      ->required();
  cmd->add_option("--history", args->history,
                  "JSON array of profile items, or a LaMP questions file (with --id)")
      ->required();
  cmd->add_option("--id", args->id, "Question id whose profile is the history (questions file)");
  cmd->add_option("--task", args->task,
                  "LaMP task (default: the plug-in's; must match it); validates profile fields");
  cmd->add_option("--out", args->out, "User embedding file to write (atomically)")->required();
  add_threads_option(cmd, args->threads);
  cmd->add_option("--dtype", args->dtype, kDtypeHelp)->capture_default_str();
  cmd->callback([args] { run_embed(*args); });
}

}  // namespace pplug::cli
