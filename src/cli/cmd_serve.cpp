// pplug serve: the OpenAI-compatible HTTP service of a frozen LLM and a plug-in, with a
// persistent per-user embedding store (src/serve, docs/serving.md). Runs until SIGINT/SIGTERM.
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "cli/cli_chat.h"
#include "cli/cli_common.h"
#include "cli/cli_plugin.h"
#include "cli/commands.h"
#include "pplug/chat_template_file.h"
#include "pplug/error.h"
#include "serve/server.h"

namespace pplug::cli {
namespace {

struct ServeArgs {
  std::string model, tokenizer, encoder, plugin, store, dtype = "f32", model_name;
  serve::ServerOptions server;
  size_t cache_users = 1024;
  EmbeddingStorage storage;
  bool no_store_projections = false;
  std::string chat_template;  // a name, "none", or "" = the model's own when it has one
  int threads = 0;
};

// The name /v1/models reports: --model-name, else the --model path's last component.
std::string served_name(const ServeArgs& a) {
  if (!a.model_name.empty()) return a.model_name;
  const auto path = std::filesystem::path(a.model);
  const std::string name =
      path.has_filename() ? path.filename().string() : path.parent_path().filename().string();
  return name.empty() ? "pplug" : name;
}

// SIGINT/SIGTERM reach whichever thread does not block them, and libraries start threads of
// their own before main (OpenBLAS at load), so a signal mask cannot route them. The handler
// only writes a byte to a pipe (async-signal-safe); a waiter thread reads it and stops the
// server outside signal context.
int g_stop_pipe[2] = {-1, -1};

extern "C" void on_stop_signal(int) {
  const char byte = 1;
  [[maybe_unused]] const ssize_t n = ::write(g_stop_pipe[1], &byte, 1);
}

void run_serve(ServeArgs a) {
  // The server runs the model on several threads (the scheduler, history encoding on the HTTP
  // threads), each with an OpenMP team of its own; under `active` their idle workers spin on
  // the same cores and decoding slows down ~2x (docs/benchmarks.md, "Serving").
  if (const char* policy = std::getenv("OMP_WAIT_POLICY");
      policy != nullptr && std::string(policy) == "active") {
    std::cerr << "pplug serve: warning: OMP_WAIT_POLICY=active makes the server's OpenMP teams "
                 "spin against each other (about 2x slower decoding); unset it or use passive"
              << std::endl;
  }
  set_threads(a.threads);
  const auto llm = load_cli_model(a.model, a.tokenizer, a.dtype);
  std::shared_ptr<const PersonaPlug> plug = load_cli_plugin(a.plugin, llm, a.encoder);
  if (a.chat_template != "none") {
    const bool has_one =
        find_chat_template(llm.tokenizer->path()).found() || find_chat_template(a.model).found();
    if (has_one || !a.chat_template.empty()) {
      a.server.chat_template = std::make_shared<const ChatTemplate>(
          cli_chat_template(llm, a.model, a.chat_template, /*thinking=*/true));
    }
  }
  a.storage.projections = !a.no_store_projections;
  auto store = std::make_shared<serve::UserStore>(a.store, serve::store_identity(*plug),
                                                  a.cache_users, a.storage);
  a.server.model_name = served_name(a);
  serve::Server server(plug, store, a.server);
  const int port = server.bind();
  if (::pipe(g_stop_pipe) != 0) throw Error("pplug serve: cannot create a pipe");
  struct sigaction action = {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
  std::thread waiter([&server] {
    char byte = 0;
    while (::read(g_stop_pipe[0], &byte, 1) < 0 && errno == EINTR) {
    }
    server.stop();
  });
  std::cerr << "pplug serve: listening on http://" << a.server.host << ":" << port << " (model "
            << a.server.model_name << ", plug-in " << plug->fingerprint() << ", store " << a.store
            << ", chat template "
            << (a.server.chat_template ? a.server.chat_template->name() : std::string("none"))
            << (a.server.api_key.empty() ? "" : ", API key required") << ")" << std::endl;
  server.run();
  on_stop_signal(0);  // run() can also return on its own: wake the waiter so it can be joined
  waiter.join();
  std::cerr << "pplug serve: stopped" << std::endl;
}

}  // namespace

void register_serve(CLI::App& app) {
  auto args = std::make_shared<ServeArgs>();
  auto* cmd = app.add_subcommand(
      "serve", "Serve personalized completions over HTTP (OpenAI-compatible, docs/serving.md)");
  add_llm_options(cmd, args->model, args->tokenizer, args->encoder);
  cmd->add_option("--plugin", args->plugin, "Plug-in folder (manifest.json, plugin.safetensors)")
      ->required();
  cmd->add_option("--store", args->store,
                  "User store folder (created when absent; refused when made for another plug-in)")
      ->required();
  cmd->add_option("--host", args->server.host, "Listen address (0.0.0.0 = every interface)")
      ->capture_default_str();
  cmd->add_option("--port", args->server.port, "Listen port (0 = any free port)")
      ->capture_default_str()
      ->check(int_in(0, 65535));
  cmd->add_option("--api-key", args->server.api_key,
                  "Require 'Authorization: Bearer KEY' on every route (or env PPLUG_API_KEY)")
      ->envname("PPLUG_API_KEY");
  cmd->add_option("--max-batch", args->server.max_batch,
                  "Sequences decoding at once (requests join a running decode as rows free up)")
      ->capture_default_str()
      ->check(int_in(1, limits::kMaxBatch));
  cmd->add_option("--max-queue", args->server.max_queue,
                  "Completion requests waiting at most (then 503)")
      ->capture_default_str()
      ->check(int_in(1, 4096));
  cmd->add_option("--max-body", args->server.max_body_bytes, "Request body bytes at most (413)")
      ->capture_default_str()
      ->check(int_in(1024, int64_t{1} << 30));
  cmd->add_option("--max-tokens", args->server.max_tokens, "Largest max_tokens a request may ask")
      ->capture_default_str()
      ->check(int_in(1, limits::kMaxNewTokens));
  cmd->add_option("--cache-users", args->cache_users, "Users kept in memory (LRU)")
      ->capture_default_str()
      ->check(int_in(0, 10000000));
  cmd->add_option("--store-vectors", args->storage.vectors,
                  "How user records store item vectors: f32, bf16 or int8 (docs/serving.md, Size)")
      ->capture_default_str()
      ->check(CLI::IsMember({"f32", "bf16", "int8"}));
  cmd->add_flag("--no-store-projections", args->no_store_projections,
                "Leave projections out of user records: recomputed at each query (smaller store)");
  cmd->add_option("--chat-template", args->chat_template,
                  "How /v1/chat/completions renders messages: a format (llama3, chatml, qwen3, "
                  "mistral, gemma, phi3, plain, ...: docs/chat.md), or none (lines 'role: "
                  "content'); default: the model's own template, none when it has no template");
  cmd->add_option("--model-name", args->model_name,
                  "Model id in /v1/models and responses (default: --model's file or folder name)");
  add_threads_option(cmd, args->threads);
  cmd->add_option("--dtype", args->dtype, kDtypeHelp)->capture_default_str();
  cmd->callback([args] { run_serve(*args); });
}

}  // namespace pplug::cli
