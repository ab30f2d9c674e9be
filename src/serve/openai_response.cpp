#include "serve/openai_response.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>

#include "serve/stream_channel.h"

namespace pplug::serve {

using nlohmann::json;

ResponseHead make_response_head(const CompletionRequest& request, const std::string& served_model) {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t salt = std::random_device{}();
  char id[40];
  std::snprintf(id, sizeof(id), "%s-%08llx%08llx",
                request.endpoint == Endpoint::kChat ? "chatcmpl" : "cmpl",
                static_cast<unsigned long long>(salt & 0xffffffffu),
                static_cast<unsigned long long>(counter++));
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return {id, std::chrono::duration_cast<std::chrono::seconds>(now).count(),
          request.model.empty() ? served_model : request.model};
}

const char* finish_reason_name(FinishReason reason) {
  return reason == FinishReason::kLength ? "length" : "stop";
}

json usage_json(const std::vector<GenerationResult>& results) {
  // Every choice continues the same prompt: it counts once.
  const size_t prompt_tokens = results.empty() ? 0 : results.front().prompt_ids.size();
  size_t completion_tokens = 0;
  for (const auto& r : results) completion_tokens += r.generated_ids.size();
  return {{"prompt_tokens", prompt_tokens},
          {"completion_tokens", completion_tokens},
          {"total_tokens", prompt_tokens + completion_tokens}};
}

json completion_body(const CompletionRequest& request, const ResponseHead& head,
                     const std::vector<GenerationResult>& results) {
  const bool chat = request.endpoint == Endpoint::kChat;
  json choices = json::array();
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    json choice = {{"index", i}, {"finish_reason", finish_reason_name(r.finish_reason)}};
    if (chat) {
      choice["message"] = {{"role", "assistant"}, {"content", r.text}};
    } else {
      choice["text"] = r.text;
      choice["logprobs"] = nullptr;
    }
    choices.push_back(std::move(choice));
  }
  return {{"id", head.id},           {"object", chat ? "chat.completion" : "text_completion"},
          {"created", head.created}, {"model", head.model},
          {"choices", choices},      {"usage", usage_json(results)}};
}

json stream_chunk(const CompletionRequest& request, const ResponseHead& head, size_t index,
                  const std::string& delta, const char* finish_reason) {
  const bool chat = request.endpoint == Endpoint::kChat;
  json choice = {{"index", index}, {"finish_reason", finish_reason ? json(finish_reason) : json()}};
  if (chat) {
    choice["delta"] = finish_reason ? json::object() : json{{"content", delta}};
  } else {
    choice["text"] = delta;
    choice["logprobs"] = nullptr;
  }
  json chunk = {{"id", head.id},
                {"object", chat ? "chat.completion.chunk" : "text_completion"},
                {"created", head.created},
                {"model", head.model},
                {"choices", json::array({choice})}};
  // OpenAI's chunks carry "usage": null when the usage chunk was asked for; a client may read
  // the member on every chunk.
  if (request.include_usage) chunk["usage"] = nullptr;
  return chunk;
}

json usage_chunk(const CompletionRequest& request, const ResponseHead& head,
                 const std::vector<GenerationResult>& results) {
  return {
      {"id", head.id},
      {"object", request.endpoint == Endpoint::kChat ? "chat.completion.chunk" : "text_completion"},
      {"created", head.created},
      {"model", head.model},
      {"choices", json::array()},
      {"usage", usage_json(results)}};
}

std::string stream_tail(const CompletionRequest& request, const ResponseHead& head,
                        const std::vector<GenerationResult>& results) {
  std::string tail;
  for (size_t i = 0; i < results.size(); ++i) {
    tail += sse_frame(dump_json(
        stream_chunk(request, head, i, "", finish_reason_name(results[i].finish_reason))));
  }
  if (request.include_usage) tail += sse_frame(dump_json(usage_chunk(request, head, results)));
  return tail + sse_frame("[DONE]");
}

std::string dump_json(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace pplug::serve
