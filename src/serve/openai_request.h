// Parsing OpenAI-style completion requests (POST /v1/completions, /v1/chat/completions) into
// what the scheduler runs. Every rejection is an ApiError 400 naming the field and the value.
#pragma once

#include <string>

#include "pplug/chat_template.h"
#include "pplug/generation.h"

namespace pplug::serve {

enum class Endpoint { kCompletions, kChat };

// Bounds a request must respect (the server's flags).
struct RequestLimits {
  int max_tokens = 4096;  // the largest max_tokens accepted
  int max_n = 16;         // the largest n (choices per request)
};

struct CompletionRequest {
  Endpoint endpoint = Endpoint::kCompletions;
  std::string model;           // as sent ("" when absent); echoed in responses
  std::string user;            // the user whose embedding personalizes; "" = the plain frozen model
  std::string input;           // the task input (chat: the rendered messages, see render_chat)
  GenerationOptions options;   // max_new_tokens, temperature, top_p, seed, stop_strings
  int n = 1;                   // choices
  bool stream = false;         // server-sent events
  bool include_usage = false;  // stream_options.include_usage: a last chunk carries the usage
};

// Parses a JSON body. Defaults follow OpenAI: temperature 1, top_p 1, n 1; max_tokens 16
// (completions) or 256 (chat); no seed = a random one. top_p 0 means greedy. Chat message
// contents may be strings or arrays of text parts; role "developer" is read as "system".
// `chat` renders chat messages with the model's template (the server loads it at start, see
// docs/serving.md); null = render_chat's stand-in, for models without one.
CompletionRequest parse_completion_request(const std::string& body, Endpoint endpoint,
                                           const RequestLimits& limits,
                                           const ChatTemplate* chat = nullptr);

// Chat messages as one input for a model without a chat template: a single message is its
// content; several become lines "role: content" in order.
std::string render_chat(const std::vector<std::pair<std::string, std::string>>& messages);

}  // namespace pplug::serve
