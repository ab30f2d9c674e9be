// GET /health, /v1/models and /metrics.
#include "serve/server_context.h"

namespace pplug::serve {

void register_info_routes(httplib::Server& server, ServerContext& c) {
  server.Get("/health", [&c](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, {{"status", "ok"}, {"queue_length", c.scheduler.queue_length()}});
  });
  server.Get("/v1/models", [&c](const httplib::Request&, httplib::Response& res) {
    const nlohmann::json model = {{"id", c.options.model_name},
                                  {"object", "model"},
                                  {"created", 0},
                                  {"owned_by", "pplug"},
                                  {"plugin_fingerprint", c.plug->fingerprint()},
                                  {"task", c.plug->config().task}};
    send_json(res, 200, {{"object", "list"}, {"data", nlohmann::json::array({model})}});
  });
  server.Get("/metrics", [&c](const httplib::Request&, httplib::Response& res) {
    GaugeValues g;
    g.queue_length = c.scheduler.queue_length();
    g.cached_users = c.store->cached_users();
    g.store_writes = c.store->writes();
    g.store_cache_hits = c.store->cache_hits();
    g.store_cache_misses = c.store->cache_misses();
    res.set_content(c.metrics.render(g), "text/plain; version=0.0.4");
  });
}

}  // namespace pplug::serve
