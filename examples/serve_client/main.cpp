// Talk to a running `pplug serve` (docs/serving.md) over HTTP with cpp-httplib's client:
// upload a user's history, ask a completion personalized by it, then stream a chat completion
// and print its text as it arrives.
//   serve_client [URL] [USER]      URL default http://127.0.0.1:8080, USER default alice
// The API key, when the server has one, comes from the environment: PPLUG_API_KEY.
#include <httplib.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <string>

namespace {

using nlohmann::json;

// What a failed call says: the server's OpenAI-shaped error, or why there was no answer.
std::string describe_failure(const httplib::Result& result, const std::string& what) {
  if (!result) return what + ": no answer (" + httplib::to_string(result.error()) + ")";
  const json body = json::parse(result->body, nullptr, false);
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    const json& e = body["error"];
    return what + ": HTTP " + std::to_string(result->status) + " " +
           e.value("type", std::string("error")) + ": " + e.value("message", std::string());
  }
  return what + ": HTTP " + std::to_string(result->status) + " " + result->body.substr(0, 200);
}

// The JSON body of a 200 answer; throws with the server's error message otherwise.
json answer(const httplib::Result& result, const std::string& what) {
  if (!result || result->status != 200) throw std::runtime_error(describe_failure(result, what));
  return json::parse(result->body);
}

// Server-sent events arrive in pieces of any size: lines are cut out as they complete, and a
// "data:" line's payload goes to `on_data` ("[DONE]" included).
class SseReader {
 public:
  template <typename OnData>
  void feed(const char* data, size_t size, OnData&& on_data) {
    pending_.append(data, size);
    size_t end;
    while ((end = pending_.find('\n')) != std::string::npos) {
      std::string line = pending_.substr(0, end);
      pending_.erase(0, end + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.rfind("data:", 0) != 0) continue;  // blank separators, comments, other fields
      line.erase(0, line.size() > 5 && line[5] == ' ' ? 6 : 5);
      on_data(line);
    }
  }

 private:
  std::string pending_;
};

int run(int argc, char** argv) {
  const std::string url = argc > 1 ? argv[1] : "http://127.0.0.1:8080";
  const std::string user = argc > 2 ? argv[2] : "alice";
  const char* key = std::getenv("PPLUG_API_KEY");

  httplib::Client client(url);
  if (!client.is_valid()) throw std::runtime_error("not a URL cpp-httplib can reach: " + url);
  client.set_read_timeout(600, 0);  // a long generation is not a dead server
  if (key && *key) client.set_bearer_token_auth(key);

  // 1. The user's history (PUT replaces it; POST would append). Each item is encoded once here,
  //    not per request.
  const json history = json::array({{{"id", "h1"}, {"text", "Lily loved her red ball"}},
                                    {{"id", "h2"}, {"text", "The dog ran to the park"}},
                                    {{"id", "h3"}, {"text", "A cat slept in the sun"}}});
  const json stored =
      answer(client.Put("/v1/users/" + user + "/history", history.dump(), "application/json"),
             "PUT /v1/users/" + user + "/history");
  std::cout << "user " << user << ": " << stored["items"] << " items, " << stored["encoded"]
            << " encoded\n";

  // 2. A completion personalized by that history: the `user` field names it.
  const json request = {
      {"prompt", "Once upon a time"}, {"user", user}, {"max_tokens", 24}, {"temperature", 0}};
  const json completion = answer(client.Post("/v1/completions", request.dump(), "application/json"),
                                 "POST /v1/completions");
  std::cout << "completion: " << completion["choices"][0]["text"].get<std::string>() << "\n"
            << "  finish_reason " << completion["choices"][0]["finish_reason"] << ", usage "
            << completion["usage"].dump() << "\n";

  // 3. A streamed chat completion: chunks arrive as "data: {...}" events, the last "data: [DONE]".
  const json chat = {{"messages", {{{"role", "user"}, {"content", "Tell me a story"}}}},
                     {"user", user},
                     {"max_tokens", 32},
                     {"stream", true}};
  httplib::Request stream;
  stream.method = "POST";
  stream.path = "/v1/chat/completions";
  stream.body = chat.dump();
  stream.set_header("Content-Type", "application/json");
  stream.set_header("Accept", "text/event-stream");
  int status = 0;
  // An error before the stream starts is a JSON body with its status; one after it has started
  // arrives as a data event holding "error".
  std::string error_body, stream_error, finish_reason;
  bool done = false;
  SseReader reader;
  stream.response_handler = [&](const httplib::Response& response) {
    status = response.status;
    return true;
  };
  stream.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
    if (status != 200) {
      error_body.append(data, size);
      return true;
    }
    reader.feed(data, size, [&](const std::string& payload) {
      if (payload == "[DONE]") {
        done = true;
        return;
      }
      const json chunk = json::parse(payload, nullptr, false);
      if (chunk.is_object() && chunk.contains("error")) {
        stream_error = chunk["error"].value("message", payload);
        return;
      }
      if (!chunk.is_object() || !chunk.contains("choices")) return;
      for (const json& choice : chunk["choices"]) {
        const json& delta = choice.value("delta", json::object());
        if (delta.contains("content") && delta["content"].is_string()) {
          std::cout << delta["content"].get<std::string>() << std::flush;
        }
        const auto reason = choice.find("finish_reason");
        if (reason != choice.end() && reason->is_string()) finish_reason = *reason;
      }
    });
    return true;
  };
  std::cout << "chat (streamed): ";
  httplib::Result result = client.send(stream);
  std::cout << "\n";
  if (!result) throw std::runtime_error(describe_failure(result, "POST /v1/chat/completions"));
  if (status != 200) {
    result->body = error_body;  // what the receiver kept is the error JSON
    throw std::runtime_error(describe_failure(result, "POST /v1/chat/completions"));
  }
  if (!stream_error.empty()) throw std::runtime_error("the stream failed: " + stream_error);
  if (!done) throw std::runtime_error("the stream ended without data: [DONE]");
  std::cout << "  finish_reason \"" << finish_reason << "\"\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "serve_client: " << e.what() << "\n";
    return 1;
  }
}
