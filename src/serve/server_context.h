// What the route handlers of the server share (private to src/serve; includes httplib).
#pragma once

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>

#include "serve/api_error.h"
#include "serve/batch_scheduler.h"
#include "serve/metrics.h"
#include "serve/server.h"
#include "serve/user_service.h"

namespace pplug::serve {

struct ServerContext {
  std::shared_ptr<const PersonaPlug> plug;
  std::shared_ptr<UserStore> store;
  ServerOptions options;
  Metrics metrics;
  UserService users;
  BatchScheduler scheduler;

  ServerContext(std::shared_ptr<const PersonaPlug> p, std::shared_ptr<UserStore> s, ServerOptions o)
      : plug(p),
        store(s),
        options(std::move(o)),
        users(p, s),
        scheduler(p, {options.max_batch, options.max_queue}, &metrics) {}
};

// Sends `body` as JSON with `status`.
void send_json(httplib::Response& res, int status, const nlohmann::json& body);
void send_error(httplib::Response& res, const ApiError& error);
// Runs a handler, turning every exception into an OpenAI error response: ApiError as given,
// pplug's InvalidArgument / FormatError 400, MismatchError 409, anything else 500.
void guarded(httplib::Response& res, const std::function<void()>& handler);

// The stored user, nullptr when unknown. A damaged record is the server's fault, not the
// client's: ApiError 500 naming the file.
std::shared_ptr<const UserRecord> stored_user(ServerContext& context, const std::string& id);

void register_completion_routes(httplib::Server& server, ServerContext& context);
void register_user_routes(httplib::Server& server, ServerContext& context);
void register_info_routes(httplib::Server& server, ServerContext& context);

}  // namespace pplug::serve
