#include "serve/server.h"

#include <c10/util/Exception.h>

#include "pplug/error.h"
#include "serve/server_context.h"

namespace pplug::serve {
namespace {

// Equal strings in time independent of where they differ (the API key check).
bool same_secret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= a[i] ^ b[i % (b.empty() ? 1 : b.size())];
  return diff == 0 && !b.empty();
}

// The route a path belongs to, for metrics (user ids would make one series per user).
std::string route_label(const std::string& path) {
  if (path.rfind("/v1/users/", 0) == 0) {
    return path.size() > 8 && path.compare(path.size() - 8, 8, "/history") == 0
               ? "/v1/users/{id}/history"
               : "/v1/users/{id}";
  }
  for (const char* known :
       {"/v1/completions", "/v1/chat/completions", "/v1/models", "/health", "/metrics"}) {
    if (path == known) return known;
  }
  return "other";
}

}  // namespace

void send_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
}

void send_error(httplib::Response& res, const ApiError& error) {
  res.status = error.status;
  // OpenAI's client libraries retry 408, 409, 429 and every 5xx by default. A mismatch (409) or
  // a damaged store file (500) does not heal by retrying; a full queue (503) does, after a while.
  if (error.status == 409 || error.status == 500) res.set_header("x-should-retry", "false");
  if (error.status == 503) res.set_header("Retry-After", "1");
  res.set_content(error_body(error), "application/json");
}

void guarded(httplib::Response& res, const std::function<void()>& handler) {
  try {
    handler();
  } catch (const ApiError& e) {
    send_error(res, e);
  } catch (const InvalidArgument& e) {
    send_error(res, ApiError(400, e.what()));
  } catch (const FormatError& e) {
    send_error(res, ApiError(400, e.what()));
  } catch (const MismatchError& e) {
    send_error(res, ApiError(409, e.what(), "invalid_request_error"));
  } catch (const c10::Error& e) {
    const std::string message = e.what_without_backtrace();
    send_error(res, ApiError(500, message.substr(0, message.find('\n')), "server_error"));
  } catch (const std::exception& e) {
    send_error(res, ApiError(500, e.what(), "server_error"));
  }
}

std::shared_ptr<const UserRecord> stored_user(ServerContext& context, const std::string& id) {
  try {
    return context.store->get(id);
  } catch (const FormatError& e) {
    throw ApiError(500, std::string("the store cannot read this user: ") + e.what(),
                   "server_error");
  }
}

struct Server::Impl {
  ServerContext context;
  httplib::Server http;
  bool bound = false;

  Impl(std::shared_ptr<const PersonaPlug> plug, std::shared_ptr<UserStore> store,
       ServerOptions options)
      : context(std::move(plug), std::move(store), std::move(options)) {
    const ServerOptions& o = context.options;
    const size_t threads =
        o.http_threads > 0 ? static_cast<size_t>(o.http_threads) : o.max_queue + 8;
    // Each waiting completion holds a connection thread, so the pool outnumbers the queue:
    // a full queue is then answered with 503 instead of connections piling up unanswered.
    http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    http.set_payload_max_length(o.max_body_bytes);
    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      const std::string& key = context.options.api_key;
      if (key.empty()) return httplib::Server::HandlerResponse::Unhandled;
      const std::string header = req.get_header_value("Authorization");
      const std::string prefix = "Bearer ";
      if (header.rfind(prefix, 0) == 0 && same_secret(header.substr(prefix.size()), key)) {
        return httplib::Server::HandlerResponse::Unhandled;
      }
      res.set_header("WWW-Authenticate", "Bearer");
      // The refusal comes before the body is read: the connection must close, or the unread
      // body would be parsed as the next request on it (a keep-alive client's next call).
      res.set_header("Connection", "close");
      send_error(res, ApiError(401,
                               header.empty() ? "missing API key: send 'Authorization: Bearer KEY'"
                                              : "invalid API key",
                               "authentication_error", "", "invalid_api_key"));
      return httplib::Server::HandlerResponse::Handled;
    });
    // Errors httplib raises itself (no route, body too large, bad request line) get a JSON body
    // too; handlers' own errors already have one.
    http.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty() || res.content_length_ > 0) return;
      if (res.status == 404) {
        send_error(res,
                   ApiError(404, "no route " + req.method + " " + req.path, "not_found_error"));
      } else if (res.status == 413) {
        // httplib caps form-encoded bodies (curl -d's default type) at 8192 bytes on its own.
        const bool form =
            req.get_header_value("Content-Type").find("x-www-form-urlencoded") != std::string::npos;
        send_error(res, ApiError(413,
                                 form ? "request body sent as application/x-www-form-urlencoded "
                                        "is limited to 8192 bytes: send it as "
                                        "'Content-Type: application/json'"
                                      : "request body larger than " +
                                            std::to_string(context.options.max_body_bytes) +
                                            " bytes (--max-body)",
                                 "invalid_request_error", "", "body_too_large"));
      } else {
        send_error(
            res, ApiError(res.status, "request refused (HTTP " + std::to_string(res.status) + ")"));
      }
    });
    http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      context.metrics.count_request(route_label(req.path), res.status);
    });
    register_completion_routes(http, context);
    register_user_routes(http, context);
    register_info_routes(http, context);
  }
};

Server::Server(std::shared_ptr<const PersonaPlug> plug, std::shared_ptr<UserStore> store,
               ServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(plug), std::move(store), std::move(options))) {}

Server::~Server() { stop(); }

int Server::bind() {
  const ServerOptions& o = impl_->context.options;
  int port = o.port;
  if (port == 0) {
    port = impl_->http.bind_to_any_port(o.host);
  } else if (!impl_->http.bind_to_port(o.host, port)) {
    port = -1;
  }
  if (port < 0) {
    throw Error("cannot listen on " + o.host + ":" + std::to_string(o.port) +
                " (address in use, or not an address of this machine)");
  }
  impl_->bound = true;
  return port;
}

void Server::run() {
  if (!impl_->bound) throw Error("Server::run() before bind()");
  impl_->http.listen_after_bind();
}

void Server::stop() {
  impl_->http.stop();
  impl_->context.scheduler.stop();
}

}  // namespace pplug::serve
