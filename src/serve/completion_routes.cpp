// POST /v1/completions and /v1/chat/completions: parse, look the user up, queue the job for the
// batch scheduler, answer with the whole body or stream server-sent events.
#include <chrono>
#include <future>

#include "serve/openai_request.h"
#include "serve/openai_response.h"
#include "serve/server_context.h"
#include "serve/stream_channel.h"

namespace pplug::serve {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// (server.cpp's send_error adds Retry-After to every 503: OpenAI's clients honour it.)
ApiError queue_full(const ServerContext& c) {
  return ApiError(503,
                  "the server is busy: " + std::to_string(c.options.max_queue) +
                      " requests are queued (--max-queue); retry later",
                  "server_error", "", "queue_full");
}

std::shared_ptr<const UserRecord> find_user(ServerContext& c, const std::string& id) {
  if (id.empty()) return nullptr;
  auto record = stored_user(c, id);
  if (!record) {
    throw ApiError(
        404,
        "unknown user '" + id + "': give it a history first (PUT /v1/users/" + id + "/history)",
        "invalid_request_error", "user", "user_not_found");
  }
  return record;
}

void answer(ServerContext& c, const CompletionRequest& request, std::shared_ptr<GenerationJob> job,
            httplib::Response& res) {
  const auto start = Clock::now();
  auto done = std::make_shared<std::promise<std::vector<GenerationResult>>>();
  job->on_done = [done](std::vector<GenerationResult> results) {
    done->set_value(std::move(results));
  };
  job->on_error = [done](int status, const std::string& message) {
    done->set_exception(std::make_exception_ptr(
        ApiError(status, message, status < 500 ? "invalid_request_error" : "server_error")));
  };
  auto future = done->get_future();
  if (!c.scheduler.submit(job)) throw queue_full(c);
  const auto results = future.get();  // rethrows the job's ApiError
  c.metrics.observe_latency(seconds_since(start));
  send_json(res, 200,
            completion_body(request, make_response_head(request, c.options.model_name), results));
}

void stream(ServerContext& c, const CompletionRequest& request, std::shared_ptr<GenerationJob> job,
            httplib::Response& res) {
  const auto start = Clock::now();
  const ResponseHead head = make_response_head(request, c.options.model_name);
  auto channel = std::make_shared<StreamChannel>();
  if (request.endpoint == Endpoint::kChat) {
    // OpenAI's first chunk of each choice carries the role.
    for (int i = 0; i < request.n; ++i) {
      auto chunk = stream_chunk(request, head, i, "");
      chunk["choices"][0]["delta"] = {{"role", "assistant"}, {"content", ""}};
      channel->push(sse_frame(dump_json(chunk)));
    }
  }
  job->on_text = [channel, request, head](size_t choice, const std::string& delta) {
    return channel->push(sse_frame(dump_json(stream_chunk(request, head, choice, delta))));
  };
  Metrics* metrics = &c.metrics;
  job->on_done = [channel, request, head, metrics, start](std::vector<GenerationResult> results) {
    metrics->observe_latency(seconds_since(start));
    channel->finish(stream_tail(request, head, results));
  };
  job->on_error = [channel](int status, const std::string& message) {
    // The 200 header is out already: the error travels as an event, as OpenAI's streams do.
    const std::string type = status < 500 ? "invalid_request_error" : "server_error";
    channel->finish(sse_frame(error_body(message, type)) + sse_frame("[DONE]"));
  };
  if (!c.scheduler.submit(job)) throw queue_full(c);
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [channel](size_t, httplib::DataSink& sink) {
        std::string event;
        if (!channel->next(event)) {
          sink.done();
          return true;
        }
        if (!sink.write(event.data(), event.size())) {
          channel->cancel();
          return false;
        }
        return true;
      },
      [channel](bool) { channel->cancel(); });
}

void handle(ServerContext& c, Endpoint endpoint, const httplib::Request& req,
            httplib::Response& res) {
  guarded(res, [&] {
    RequestLimits limits;
    limits.max_tokens = c.options.max_tokens;
    const CompletionRequest request =
        parse_completion_request(req.body, endpoint, limits, c.options.chat_template.get());
    auto job = std::make_shared<GenerationJob>();
    job->user = find_user(c, request.user);
    job->input = request.input;
    job->options = request.options;
    job->n = request.n;
    if (request.stream) {
      stream(c, request, job, res);
    } else {
      answer(c, request, job, res);
    }
  });
}

}  // namespace

void register_completion_routes(httplib::Server& server, ServerContext& context) {
  server.Post("/v1/completions", [&context](const httplib::Request& req, httplib::Response& res) {
    handle(context, Endpoint::kCompletions, req, res);
  });
  server.Post("/v1/chat/completions",
              [&context](const httplib::Request& req, httplib::Response& res) {
                handle(context, Endpoint::kChat, req, res);
              });
}

}  // namespace pplug::serve
