#include "serve/openai_request.h"

#include <utility>

namespace pplug::serve {

CompletionRequest parse_completion_request(const std::string& body, Endpoint endpoint,
                                           const RequestLimits& limits, const ChatTemplate* chat) {
  CompletionBody b = parse_completion_body(body, endpoint, limits, chat);
  CompletionRequest r;
  r.endpoint = b.endpoint;
  r.model = std::move(b.model);
  r.user = std::move(b.user);
  r.input = std::move(b.input);
  r.options.max_new_tokens = b.max_new_tokens;
  r.options.temperature = b.temperature;
  r.options.top_p = b.top_p;
  r.options.seed = b.seed;
  r.options.stop_strings = std::move(b.stop_strings);
  r.n = b.n;
  r.stream = b.stream;
  r.include_usage = b.include_usage;
  return r;
}

}  // namespace pplug::serve
