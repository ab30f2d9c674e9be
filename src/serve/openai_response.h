// OpenAI-shaped response bodies: whole completions and the chunks of a stream.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "pplug/generation.h"
#include "serve/openai_request.h"

namespace pplug::serve {

// What every body of one response shares.
struct ResponseHead {
  std::string id;     // "cmpl-..." or "chatcmpl-..."
  int64_t created;    // unix seconds
  std::string model;  // the request's model field, or the served model's name
};

ResponseHead make_response_head(const CompletionRequest& request, const std::string& served_model);
// "stop" for EOS, a stop string or a cancelled stream; "length" when max_tokens ran out.
const char* finish_reason_name(FinishReason reason);
// The body of a non-streamed response: one choice per result, usage summed over the choices.
nlohmann::json completion_body(const CompletionRequest& request, const ResponseHead& head,
                               const std::vector<GenerationResult>& results);
// {"prompt_tokens", "completion_tokens", "total_tokens"} of one request's choices.
nlohmann::json usage_json(const std::vector<GenerationResult>& results);
// One stream chunk of choice `index`: a text delta, or (finish_reason given) the closing chunk.
// With request.include_usage it carries "usage": null, as OpenAI's do.
nlohmann::json stream_chunk(const CompletionRequest& request, const ResponseHead& head,
                            size_t index, const std::string& delta,
                            const char* finish_reason = nullptr);
// The chunk stream_options.include_usage asks for: "choices": [] and the request's usage.
nlohmann::json usage_chunk(const CompletionRequest& request, const ResponseHead& head,
                           const std::vector<GenerationResult>& results);
// The SSE frames that end a stream: each choice's closing chunk, the usage chunk when the
// request asked for it, then "data: [DONE]".
std::string stream_tail(const CompletionRequest& request, const ResponseHead& head,
                        const std::vector<GenerationResult>& results);
// A JSON value as text, invalid UTF-8 replaced (a token boundary can split a character).
std::string dump_json(const nlohmann::json& value);

}  // namespace pplug::serve
