// What OpenAI's client libraries send and expect (checked against openai-python's request
// building, response types and SSE decoder): content-part messages, the "developer" role,
// top_p 0, stream_options.include_usage; and, on loopback, requests carrying openai-python's
// headers whose streams are read with that library's SSE rules.
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include <thread>

#include "serve/api_error.h"
#include "serve/openai_request.h"
#include "serve/openai_response.h"
#include "serve/serve_fixture.h"
#include "serve/server.h"

namespace pplug::serve {
namespace {

using nlohmann::json;

CompletionRequest parse_chat(const json& body) {
  return parse_completion_request(body.dump(), Endpoint::kChat, RequestLimits{});
}

CompletionRequest parse_text(const json& body) {
  return parse_completion_request(body.dump(), Endpoint::kCompletions, RequestLimits{});
}

// The ApiError a body is refused with (status 0 when it is accepted).
ApiError refusal(const json& body, Endpoint endpoint = Endpoint::kCompletions) {
  try {
    parse_completion_request(body.dump(), endpoint, RequestLimits{});
  } catch (const ApiError& e) {
    return e;
  }
  return ApiError(0, "accepted");
}

TEST(OpenAiRequestTest, TextContentPartsAreTheSameInputAsAString) {
  const json parts = {
      {"messages",
       {{{"role", "user"},
         {"content",
          {{{"type", "text"}, {"text", "Tell me"}}, {{"type", "text"}, {"text", "a story"}}}}}}}};
  const json plain = {{"messages", {{{"role", "user"}, {"content", "Tell me\na story"}}}}};
  EXPECT_EQ(parse_chat(parts).input, parse_chat(plain).input);
  EXPECT_EQ(parse_chat(parts).input, "Tell me\na story");

  json image = parts;
  image["messages"][0]["content"][1] = {{"type", "image_url"},
                                        {"image_url", {{"url", "http://x/y.png"}}}};
  ApiError e = refusal(image, Endpoint::kChat);
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.param, "messages[0].content[1].type");
  EXPECT_NE(std::string(e.what()).find("\"image_url\""), std::string::npos) << e.what();

  json no_text = parts;
  no_text["messages"][0]["content"][0].erase("text");
  e = refusal(no_text, Endpoint::kChat);
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.param, "messages[0].content[0].text");

  json number = parts;
  number["messages"][0]["content"] = 5;
  EXPECT_EQ(refusal(number, Endpoint::kChat).param, "messages[0].content");
}

TEST(OpenAiRequestTest, TheDeveloperRoleIsReadAsTheSystemRole) {
  const auto messages = [](const char* first_role) {
    return json{{"messages",
                 {{{"role", first_role}, {"content", "Be brief."}},
                  {{"role", "user"}, {"content", "Hi"}}}}};
  };
  EXPECT_EQ(parse_chat(messages("developer")).input, parse_chat(messages("system")).input);
  EXPECT_EQ(parse_chat(messages("developer")).input, "system: Be brief.\nuser: Hi");
  EXPECT_EQ(refusal(messages("tool"), Endpoint::kChat).param, "messages[0].role");
}

TEST(OpenAiRequestTest, TopPZeroIsGreedyAndOutsideZeroToOneIsRefused) {
  const CompletionRequest zero =
      parse_text({{"prompt", "hi"}, {"temperature", 0.7}, {"top_p", 0}, {"seed", 3}});
  EXPECT_EQ(zero.options.temperature, 0.0f);
  EXPECT_EQ(zero.options.top_p, 1.0f);  // the library's sampler takes (0, 1]
  const CompletionRequest some =
      parse_text({{"prompt", "hi"}, {"temperature", 0.7}, {"top_p", 0.5}});
  EXPECT_EQ(some.options.temperature, 0.7f);
  EXPECT_EQ(some.options.top_p, 0.5f);
  for (const double bad : {-0.1, 1.5}) {
    const ApiError e = refusal({{"prompt", "hi"}, {"top_p", bad}});
    EXPECT_EQ(e.status, 400) << bad;
    EXPECT_EQ(e.param, "top_p");
  }
}

TEST(OpenAiRequestTest, StreamOptionsAskForUsageOnlyOnAStream) {
  EXPECT_TRUE(
      parse_text(
          {{"prompt", "hi"}, {"stream", true}, {"stream_options", {{"include_usage", true}}}})
          .include_usage);
  EXPECT_FALSE(parse_text({{"prompt", "hi"}, {"stream", true}, {"stream_options", json::object()}})
                   .include_usage);
  EXPECT_FALSE(parse_text({{"prompt", "hi"}, {"stream", true}}).include_usage);
  EXPECT_FALSE(parse_text({{"prompt", "hi"}, {"stream_options", nullptr}}).include_usage);

  ApiError e = refusal({{"prompt", "hi"}, {"stream_options", {{"include_usage", true}}}});
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.param, "stream_options");
  e = refusal({{"prompt", "hi"}, {"stream", true}, {"stream_options", {{"include_usage", "yes"}}}});
  EXPECT_EQ(e.param, "stream_options.include_usage");
  e = refusal({{"prompt", "hi"}, {"stream", true}, {"stream_options", true}});
  EXPECT_EQ(e.param, "stream_options");
}

// Two finished choices of one request: a shared prompt of 3 ids, 2 and 4 generated ids.
std::vector<GenerationResult> two_results() {
  std::vector<GenerationResult> results(2);
  for (auto& r : results) r.prompt_ids = {1, 10, 11};
  results[0].generated_ids = {5, 6};
  results[0].finish_reason = FinishReason::kEos;
  results[1].generated_ids = {7, 8, 9, 10};
  results[1].finish_reason = FinishReason::kLength;
  return results;
}

// The data payloads of SSE text, split as openai-python's SSEDecoder splits them: lines end at
// CR, LF or CRLF; a blank line dispatches the event; "data:" drops one leading space.
std::vector<std::string> sse_data(const std::string& raw) {
  std::vector<std::string> events, data;
  size_t at = 0;
  while (at < raw.size()) {
    const size_t end = raw.find_first_of("\r\n", at);
    const std::string line = raw.substr(at, end == std::string::npos ? end : end - at);
    at = end == std::string::npos ? raw.size() : end + 1;
    if (end != std::string::npos && raw[end] == '\r' && at < raw.size() && raw[at] == '\n') ++at;
    if (line.empty()) {
      if (!data.empty()) {
        std::string joined;
        for (size_t i = 0; i < data.size(); ++i) joined += (i ? "\n" : "") + data[i];
        events.push_back(joined);
      }
      data.clear();
      continue;
    }
    if (line[0] == ':') continue;
    const size_t colon = line.find(':');
    const std::string field = line.substr(0, colon);
    std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.erase(0, 1);
    if (field == "data") data.push_back(value);
  }
  return events;
}

TEST(OpenAiResponseTest, AStreamAskingForUsageEndsWithAUsageChunkBeforeDone) {
  CompletionRequest request = parse_chat({{"messages", {{{"role", "user"}, {"content", "hi"}}}},
                                          {"stream", true},
                                          {"stream_options", {{"include_usage", true}}}});
  const ResponseHead head = make_response_head(request, "tiny");
  EXPECT_TRUE(stream_chunk(request, head, 0, "x").at("usage").is_null());

  const auto events = sse_data(stream_tail(request, head, two_results()));
  ASSERT_EQ(events.size(), 4u);  // two closing chunks, the usage chunk, [DONE]
  for (size_t i = 0; i < 2; ++i) {
    const json chunk = json::parse(events[i]);
    EXPECT_EQ(chunk["choices"][0]["index"], i);
    EXPECT_TRUE(chunk["usage"].is_null());
  }
  EXPECT_EQ(json::parse(events[0])["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(json::parse(events[1])["choices"][0]["finish_reason"], "length");
  const json usage = json::parse(events[2]);
  EXPECT_EQ(usage["object"], "chat.completion.chunk");
  EXPECT_EQ(usage["id"], head.id);
  EXPECT_EQ(usage["choices"], json::array());
  EXPECT_EQ(usage["usage"],
            json({{"prompt_tokens", 3}, {"completion_tokens", 6}, {"total_tokens", 9}}));
  EXPECT_EQ(events[3], "[DONE]");

  // Not asked for: no usage chunk, and no "usage" member on the chunks.
  request.include_usage = false;
  const auto plain = sse_data(stream_tail(request, head, two_results()));
  ASSERT_EQ(plain.size(), 3u);
  EXPECT_FALSE(json::parse(plain[0]).contains("usage"));
  EXPECT_EQ(plain[2], "[DONE]");
}

// A server on a free port of 127.0.0.1, and requests sent the way openai-python sends them.
class OpenAiClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tiny_ = serve::testing::make_tiny_plug();
    PPLUG_SERVE_REQUIRE_PLUG(tiny_);
    ServerOptions options;
    options.port = 0;
    options.model_name = "tiny";
    options.api_key = "sk-test";
    auto store = std::make_shared<UserStore>(pplug::testing::temp_dir("serve-openai") + "/store",
                                             store_identity(*tiny_.plug));
    server_ = std::make_unique<Server>(tiny_.plug, store, options);
    port_ = server_->bind();
    thread_ = std::thread([this] { server_->run(); });
  }
  void TearDown() override {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
  }
  // POSTs `body` with openai-python's headers; the status and the raw body.
  std::pair<int, std::string> post(const std::string& path, const json& body) const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(120, 0);  // a hang fails the test instead of blocking it forever
    const httplib::Headers headers = {
        {"Authorization", "Bearer sk-test"},      {"Accept", "application/json"},
        {"User-Agent", "OpenAI/Python 1.0.0"},    {"X-Stainless-Lang", "python"},
        {"X-Stainless-Package-Version", "1.0.0"}, {"X-Stainless-Retry-Count", "0"},
        {"X-Stainless-Read-Timeout", "600"}};
    auto r = c.Post(path, headers, body.dump(), "application/json");
    if (!r) return {-1, ""};
    return {r->status, r->body};
  }

  serve::testing::TinyPlug tiny_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  int port_ = 0;
};

TEST_F(OpenAiClientTest, ContentPartsAndTheDeveloperRoleAnswerAsTheirPlainForms) {
  const auto ask = [&](const json& messages) {
    const auto [status, body] =
        post("/v1/chat/completions",
             {{"model", "tiny"}, {"messages", messages}, {"max_tokens", 6}, {"temperature", 0}});
    EXPECT_EQ(status, 200) << body;
    return json::parse(body, nullptr, false);
  };
  const json parts = ask(
      {{{"role", "developer"}, {"content", "Be kind."}},
       {{"role", "user"},
        {"content",
         {{{"type", "text"}, {"text", "Once upon"}}, {{"type", "text"}, {"text", "a time"}}}}}});
  const json plain = ask({{{"role", "system"}, {"content", "Be kind."}},
                          {{"role", "user"}, {"content", "Once upon\na time"}}});
  ASSERT_TRUE(parts.is_object() && plain.is_object());
  EXPECT_EQ(parts["object"], "chat.completion");
  EXPECT_EQ(parts["choices"][0]["message"]["content"], plain["choices"][0]["message"]["content"]);
  EXPECT_EQ(parts["usage"], plain["usage"]);
}

TEST_F(OpenAiClientTest, TopPZeroAnswersAsGreedy) {
  const auto text = [&](const json& sampling) {
    json body = {{"prompt", "The dog"}, {"max_tokens", 8}, {"seed", 7}};
    body.update(sampling);
    const auto [status, raw] = post("/v1/completions", body);
    EXPECT_EQ(status, 200) << raw;
    const json parsed = json::parse(raw, nullptr, false);
    return parsed.is_object() ? parsed["choices"][0]["text"] : json();
  };
  EXPECT_EQ(text({{"temperature", 1.5}, {"top_p", 0}}), text({{"temperature", 0}}));
}

TEST_F(OpenAiClientTest, StreamsParseWithOpenAiSseRulesAndRefuseUsageWithoutStream) {
  const auto [status, raw] =
      post("/v1/chat/completions", {{"messages", {{{"role", "user"}, {"content", "A cat"}}}},
                                    {"max_tokens", 6},
                                    {"temperature", 0},
                                    {"n", 2},
                                    {"stream", true}});
  ASSERT_EQ(status, 200) << raw;
  const auto events = sse_data(raw);
  ASSERT_GE(events.size(), 5u);  // 2 role chunks, 2 closing chunks, [DONE]
  EXPECT_EQ(events.back(), "[DONE]");
  std::string id;
  std::vector<int> closed(2, 0);
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    const json chunk = json::parse(events[i]);
    // openai-python raises on a data event holding "error", and builds a ChatCompletionChunk
    // from id, object, created, model and choices[].index/delta/finish_reason.
    ASSERT_FALSE(chunk.contains("error")) << events[i];
    EXPECT_EQ(chunk["object"], "chat.completion.chunk");
    EXPECT_TRUE(chunk["created"].is_number_integer());
    EXPECT_EQ(chunk["model"], "tiny");
    if (id.empty()) id = chunk["id"];
    EXPECT_EQ(chunk["id"], id);  // one completion: one id on every chunk
    for (const json& choice : chunk["choices"]) {
      ASSERT_TRUE(choice["index"] == 0 || choice["index"] == 1) << events[i];
      EXPECT_TRUE(choice["delta"].is_object());
      if (!choice["finish_reason"].is_null()) ++closed[choice["index"].get<size_t>()];
    }
  }
  EXPECT_EQ(closed, std::vector<int>({1, 1}));

  const auto [refused, error] =
      post("/v1/completions", {{"prompt", "A cat"}, {"stream_options", {{"include_usage", true}}}});
  EXPECT_EQ(refused, 400);
  EXPECT_EQ(json::parse(error)["error"]["param"], "stream_options") << error;
}

}  // namespace
}  // namespace pplug::serve
