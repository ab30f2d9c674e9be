// The HTTP service of `pplug serve` (docs/serving.md): OpenAI-compatible completions
// personalized per user, history updates into the user store, health, models and metrics.
// cpp-httplib stays behind this facade.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "pplug/chat_template.h"
#include "pplug/persona_plug.h"
#include "serve/user_store.h"

namespace pplug::serve {

struct ServerOptions {
  std::string host = "127.0.0.1";    // listen address; 127.0.0.1 = this machine only
  int port = 8080;                   // 0 = any free port (see Server::bind())
  std::string api_key;               // when set, every route needs "Authorization: Bearer KEY"
  std::string model_name = "pplug";  // the id /v1/models lists and responses echo by default
  int max_batch = 8;                 // rows (sequences) decoding at once
  size_t max_queue = 64;             // completion requests waiting at most (then 503)
  size_t max_body_bytes = 8u << 20;  // request bodies larger than this get 413
  int max_tokens = 4096;             // the largest max_tokens a request may ask for
  int http_threads = 0;              // connection threads; 0 = max_queue + 8
  // Renders /v1/chat/completions messages (the model's own template); null = render_chat's
  // "role: content" lines, for base models that have none.
  std::shared_ptr<const ChatTemplate> chat_template;
};

class Server {
 public:
  Server(std::shared_ptr<const PersonaPlug> plug, std::shared_ptr<UserStore> store,
         ServerOptions options);
  ~Server();  // stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds host:port (port 0: a free one) and returns the port; throws Error when it cannot.
  int bind();
  // Serves until stop() (blocks; call bind() first).
  void run();
  // Stops accepting, finishes the running batch, fails the queued requests (503). Any thread.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pplug::serve
