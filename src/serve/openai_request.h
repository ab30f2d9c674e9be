// Parsing OpenAI-style completion requests (POST /v1/completions, /v1/chat/completions) into
// what the scheduler runs. Every rejection is an ApiError 400 naming the field and the value.
#pragma once

#include <string>

#include "pplug/chat_template.h"
#include "pplug/generation.h"
#include "serve/completion_body.h"

namespace pplug::serve {

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

// The body (parse_completion_body, completion_body.h: defaults, checks, chat rendering) as the
// scheduler's request.
CompletionRequest parse_completion_request(const std::string& body, Endpoint endpoint,
                                           const RequestLimits& limits,
                                           const ChatTemplate* chat = nullptr);

}  // namespace pplug::serve
