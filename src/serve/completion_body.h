// The JSON body of an OpenAI-style completion request (POST /v1/completions,
// /v1/chat/completions), parsed and validated without libtorch (the fuzz build instruments it);
// parse_completion_request (openai_request.h) turns it into what the scheduler runs. Every
// rejection is an ApiError 400 naming the field and the value.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "pplug/chat_template.h"

namespace pplug::serve {

enum class Endpoint { kCompletions, kChat };

// Bounds a request must respect (the server's flags).
struct RequestLimits {
  int max_tokens = 4096;  // the largest max_tokens accepted
  int max_n = 16;         // the largest n (choices per request)
};

struct CompletionBody {
  Endpoint endpoint = Endpoint::kCompletions;
  std::string model;         // as sent ("" when absent); echoed in responses
  std::string user;          // the user whose embedding personalizes; "" = the plain frozen model
  std::string input;         // the task input (chat: the rendered messages, see render_chat)
  int max_new_tokens = 16;   // max_tokens (max_completion_tokens for chat)
  float temperature = 1.0f;  // 0 = greedy (also for top_p 0)
  float top_p = 1.0f;        // in (0, 1]
  uint64_t seed = 0;         // as sent, or a random one
  std::vector<std::string> stop_strings;  // `stop`
  int n = 1;                              // choices
  bool stream = false;                    // server-sent events
  bool include_usage = false;  // stream_options.include_usage: a last chunk carries the usage
};

// Parses a JSON body. Defaults follow OpenAI: temperature 1, top_p 1, n 1; max_tokens 16
// (completions) or 256 (chat); no seed = a random one. top_p 0 means greedy. Chat message
// contents may be strings or arrays of text parts; role "developer" is read as "system".
// `chat` renders chat messages with the model's template (the server loads it at start, see
// docs/serving.md); null = render_chat's stand-in, for models without one.
CompletionBody parse_completion_body(const std::string& body, Endpoint endpoint,
                                     const RequestLimits& limits,
                                     const ChatTemplate* chat = nullptr);

// Chat messages as one input for a model without a chat template: a single message is its
// content; several become lines "role: content" in order.
std::string render_chat(const std::vector<std::pair<std::string, std::string>>& messages);

}  // namespace pplug::serve
