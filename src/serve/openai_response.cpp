#include "serve/openai_response.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>

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

json completion_body(const CompletionRequest& request, const ResponseHead& head,
                     const std::vector<GenerationResult>& results) {
  const bool chat = request.endpoint == Endpoint::kChat;
  json choices = json::array();
  size_t prompt_tokens = results.empty() ? 0 : results.front().prompt_ids.size();
  size_t completion_tokens = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    completion_tokens += r.generated_ids.size();
    json choice = {{"index", i}, {"finish_reason", finish_reason_name(r.finish_reason)}};
    if (chat) {
      choice["message"] = {{"role", "assistant"}, {"content", r.text}};
    } else {
      choice["text"] = r.text;
      choice["logprobs"] = nullptr;
    }
    choices.push_back(std::move(choice));
  }
  return {{"id", head.id},
          {"object", chat ? "chat.completion" : "text_completion"},
          {"created", head.created},
          {"model", head.model},
          {"choices", choices},
          {"usage",
           {{"prompt_tokens", prompt_tokens},
            {"completion_tokens", completion_tokens},
            {"total_tokens", prompt_tokens + completion_tokens}}}};
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
  return {{"id", head.id},
          {"object", chat ? "chat.completion.chunk" : "text_completion"},
          {"created", head.created},
          {"model", head.model},
          {"choices", json::array({choice})}};
}

std::string dump_json(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace pplug::serve
