// The user routes: PUT (replace) and POST (append) /v1/users/{id}/history, GET and DELETE
// /v1/users/{id}. The id in the path is the only user a request can touch.
#include "pplug/error.h"
#include "serve/history_json.h"
#include "serve/server_context.h"
#include "serve/user_id.h"

namespace pplug::serve {
namespace {

using nlohmann::json;

// The path's user id, validated (400 naming it otherwise).
std::string path_user(const httplib::Request& req) {
  const std::string id = req.matches[1];
  try {
    validate_user_id(id, "user id");
  } catch (const InvalidArgument& e) {
    throw ApiError(400, e.what(), "invalid_request_error", "id");
  }
  return id;
}

// The history items of a body: a JSON array of profile items, or {"items": [...]}.
std::vector<HistoryItem> body_items(const std::string& body) {
  json doc;
  try {
    doc = json::parse(body);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for a number like 1e999
    throw ApiError(400, std::string("malformed JSON body: ") + e.what());
  }
  if (doc.is_object()) {
    const auto items = doc.find("items");
    if (items == doc.end()) {
      throw ApiError(400, "the body must be a JSON array of history items or {\"items\": [...]}",
                     "invalid_request_error", "items");
    }
    doc = *items;
  }
  try {
    return history_items_from_json(doc, "body");
  } catch (const FormatError& e) {
    throw ApiError(400, e.what(), "invalid_request_error", "items");
  }
}

json user_json(const std::string& id, const UserRecord& record) {
  return {{"id", id},
          {"object", "user"},
          {"items", record.items.size()},
          {"encoder_fingerprint", record.embedding.encoder_fingerprint()},
          {"plugin_fingerprint", record.embedding.plugin_fingerprint()}};
}

void update(ServerContext& c, const httplib::Request& req, httplib::Response& res, bool append) {
  guarded(res, [&] {
    const std::string id = path_user(req);
    const auto items = body_items(req.body);
    HistoryUpdate done;
    try {
      done = append ? c.users.append(id, items) : c.users.replace(id, items);
    } catch (const InvalidArgument& e) {
      throw ApiError(400, e.what(), "invalid_request_error", "items");
    } catch (const FormatError& e) {  // the stored record could not be read
      throw ApiError(500, std::string("the store cannot read this user: ") + e.what(),
                     "server_error");
    }
    send_json(res, 200,
              {{"id", id}, {"object", "user"}, {"items", done.items}, {"encoded", done.encoded}});
  });
}

ApiError unknown_user(const std::string& id) {
  return ApiError(404, "unknown user '" + id + "'", "not_found_error", "id", "user_not_found");
}

}  // namespace

void register_user_routes(httplib::Server& server, ServerContext& c) {
  const std::string history = R"(/v1/users/([^/]+)/history)";
  server.Put(history, [&c](const httplib::Request& req, httplib::Response& res) {
    update(c, req, res, /*append=*/false);
  });
  server.Post(history, [&c](const httplib::Request& req, httplib::Response& res) {
    update(c, req, res, /*append=*/true);
  });
  server.Get(R"(/v1/users/([^/]+))", [&c](const httplib::Request& req, httplib::Response& res) {
    guarded(res, [&] {
      const std::string id = path_user(req);
      const auto record = stored_user(c, id);
      if (!record) throw unknown_user(id);
      send_json(res, 200, user_json(id, *record));
    });
  });
  server.Delete(R"(/v1/users/([^/]+))", [&c](const httplib::Request& req, httplib::Response& res) {
    guarded(res, [&] {
      const std::string id = path_user(req);
      std::lock_guard<std::mutex> lock(c.store->user_mutex(id));
      if (!c.store->remove(id)) throw unknown_user(id);
      send_json(res, 200, {{"id", id}, {"object", "user"}, {"deleted", true}});
    });
  });
}

}  // namespace pplug::serve
