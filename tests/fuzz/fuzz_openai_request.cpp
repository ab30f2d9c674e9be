// The server's completion request bodies (serve::parse_completion_body: the JSON, model, user
// id, prompt or messages with text parts, max_tokens, temperature, top_p, stop, n, seed,
// stream, stream_options). The first input byte picks the endpoint (bit 0: chat) and, for chat,
// the rendering (bit 1: the chatml template, bit 2: llama3, else render_chat); the rest is the
// body. A rejection is an ApiError 400 whose error body is valid JSON; an accepted body's
// numbers lie in the documented ranges.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>

#include "fuzz_support.h"
#include "serve/api_error.h"
#include "serve/completion_body.h"

using namespace pplug;

namespace {

[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "pplug fuzz: request parse breaks an invariant: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::quiet_logs();
  if (size == 0) return 0;
  static const ChatTemplate chatml = ChatTemplate::named("chatml");
  static const ChatTemplate llama3 = ChatTemplate::named("llama3");
  const bool chat = data[0] & 1;
  const ChatTemplate* tpl = (data[0] & 2) ? &chatml : (data[0] & 4) ? &llama3 : nullptr;
  const std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  serve::RequestLimits limits;
  limits.max_tokens = 512;
  limits.max_n = 4;
  fuzz::expect_documented([&] {
    try {
      const serve::CompletionBody r = serve::parse_completion_body(
          body, chat ? serve::Endpoint::kChat : serve::Endpoint::kCompletions, limits, tpl);
      if (r.max_new_tokens < 1 || r.max_new_tokens > limits.max_tokens) broken("max_tokens");
      if (r.n < 1 || r.n > limits.max_n) broken("n");
      if (!(r.temperature >= 0 && r.temperature <= 2)) broken("temperature");
      if (!(r.top_p > 0 && r.top_p <= 1)) broken("top_p");
      if (r.stop_strings.size() > 4) broken("stop");
      if (r.include_usage && !r.stream) broken("include_usage without stream");
    } catch (const serve::ApiError& e) {
      if (e.status != 400 || std::string(e.what()).empty()) broken("a 400 with a message");
      const std::string sent = serve::error_body(e.what(), e.type, e.param, e.code);
      if (!nlohmann::json::accept(sent)) broken("the error body is JSON");
    }
  });
  return 0;
}
