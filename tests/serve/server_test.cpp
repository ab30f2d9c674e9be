// `pplug serve` end to end on loopback: an in-process server on a free port of 127.0.0.1,
// talked to with cpp-httplib's client, stopped by each test.
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <thread>
#include <tuple>

#include "serve/serve_fixture.h"
#include "serve/server.h"

namespace pplug::serve {
namespace {

using nlohmann::json;
using serve::testing::make_tiny_plug;
using serve::testing::text_history;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tiny_ = make_tiny_plug();
    PPLUG_SERVE_REQUIRE_PLUG(tiny_);
    store_dir_ = pplug::testing::temp_dir("serve") + "/store";
  }
  void TearDown() override { stop(); }

  void start(ServerOptions options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    options.model_name = "tiny";
    auto store = std::make_shared<UserStore>(store_dir_, store_identity(*tiny_.plug));
    server_ = std::make_unique<Server>(tiny_.plug, store, options);
    port_ = server_->bind();
    thread_ = std::thread([this] { server_->run(); });
    api_key_ = options.api_key;
  }
  void stop() {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
    server_.reset();
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(120, 0);  // a hang fails the test instead of blocking it forever
    if (!api_key_.empty()) c.set_bearer_token_auth(api_key_);
    return c;
  }
  // POST `body` to `path`; the status and the parsed body (null when not JSON).
  std::pair<int, json> post(const std::string& path, const std::string& body,
                            const char* method = "POST") const {
    auto c = client();
    httplib::Result r = std::string(method) == "PUT"
                            ? c.Put(path.c_str(), body, "application/json")
                            : c.Post(path.c_str(), body, "application/json");
    if (!r) return {-1, json()};
    return {r->status, json::parse(r->body, nullptr, false)};
  }
  std::pair<int, json> get(const std::string& path) const {
    auto c = client();
    auto r = c.Get(path.c_str());
    if (!r) return {-1, json()};
    return {r->status, json::parse(r->body, nullptr, false)};
  }
  void put_history(const std::string& user, const std::vector<HistoryItem>& items) const {
    json array = json::array();
    for (const auto& item : items) array.push_back({{"id", item.id}, {"text", item.get("text")}});
    const auto [status, body] = post("/v1/users/" + user + "/history", array.dump(), "PUT");
    ASSERT_EQ(status, 200) << body.dump();
    EXPECT_EQ(body["items"], items.size());
  }
  static GenerationOptions greedy(int tokens) {
    GenerationOptions o;
    o.max_new_tokens = tokens;
    return o;
  }
  static json completion(const std::string& prompt, const std::string& user, int tokens) {
    json body = {{"model", "tiny"}, {"prompt", prompt}, {"max_tokens", tokens}, {"temperature", 0}};
    if (!user.empty()) body["user"] = user;
    return body;
  }
  // The error object of a 4xx/5xx body, checked for OpenAI's shape.
  static json error_of(const json& body) {
    EXPECT_TRUE(body.is_object() && body.contains("error")) << body.dump();
    if (!body.is_object() || !body.contains("error")) return json::object();
    const json& e = body["error"];
    EXPECT_TRUE(e["message"].is_string());
    EXPECT_TRUE(e["type"].is_string());
    EXPECT_TRUE(e.contains("param") && e.contains("code"));
    return e;
  }

  serve::testing::TinyPlug tiny_;
  std::string store_dir_, api_key_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  int port_ = 0;
};

TEST_F(ServerTest, PersonalizedGreedyCompletionEqualsTheLibrary) {
  start();
  const auto history = text_history(5, 1);
  put_history("alice", history);
  const std::string prompt = "Tell me about the dog";
  const auto [status, body] = post("/v1/completions", completion(prompt, "alice", 8).dump());
  ASSERT_EQ(status, 200) << body.dump();
  const auto expected = tiny_.plug->generate(tiny_.plug->embed_user(history), prompt, greedy(8));
  EXPECT_EQ(body["object"], "text_completion");
  EXPECT_EQ(body["model"], "tiny");
  EXPECT_EQ(body["choices"][0]["text"], expected.text);
  EXPECT_EQ(body["usage"]["completion_tokens"], expected.generated_ids.size());
  EXPECT_EQ(body["choices"][0]["finish_reason"],
            expected.finish_reason == FinishReason::kLength ? "length" : "stop");

  // No user: the plain frozen model on the raw prompt.
  const auto [plain_status, plain] = post("/v1/completions", completion(prompt, "", 8).dump());
  ASSERT_EQ(plain_status, 200) << plain.dump();
  Generator generator(tiny_.llm.model, tiny_.llm.tokenizer);
  EXPECT_EQ(plain["choices"][0]["text"], generator.generate(prompt, greedy(8)).text);

  // Chat: one user message is the task input.
  const json chat = {{"messages", {{{"role", "user"}, {"content", prompt}}}},
                     {"user", "alice"},
                     {"max_tokens", 8},
                     {"temperature", 0}};
  const auto [chat_status, chat_body] = post("/v1/chat/completions", chat.dump());
  ASSERT_EQ(chat_status, 200) << chat_body.dump();
  EXPECT_EQ(chat_body["object"], "chat.completion");
  EXPECT_EQ(chat_body["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(chat_body["choices"][0]["message"]["content"], expected.text);
}

TEST_F(ServerTest, ConcurrentUsersEqualEachAlone) {
  ServerOptions options;
  options.max_batch = 8;
  start(options);
  constexpr int kUsers = 5;
  std::vector<std::string> expected(kUsers), got(kUsers);
  const std::string prompt = "Once upon a time";
  for (int u = 0; u < kUsers; ++u) {
    const auto history = text_history(u + 1, u);
    put_history("user" + std::to_string(u), history);
    expected[u] = tiny_.plug->generate(tiny_.plug->embed_user(history), prompt, greedy(6)).text;
  }
  std::vector<std::thread> threads;
  for (int u = 0; u < kUsers; ++u) {
    threads.emplace_back([&, u] {
      const auto [status, body] =
          post("/v1/completions", completion(prompt, "user" + std::to_string(u), 6).dump());
      got[u] = status == 200 ? body["choices"][0]["text"].get<std::string>()
                             : "HTTP " + std::to_string(status) + " " + body.dump();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(got, expected);
}

// Reads a server-sent event stream; returns the data payloads in order.
std::vector<std::string> read_events(httplib::Client& c, const std::string& path,
                                     const std::string& body) {
  std::string raw;
  httplib::Request req;
  req.method = "POST";
  req.path = path;
  req.body = body;
  req.set_header("Content-Type", "application/json");
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    raw.append(data, n);
    return true;
  };
  auto r = c.send(req);
  EXPECT_TRUE(r && r->status == 200);
  std::vector<std::string> events;
  for (size_t at = 0; (at = raw.find("data: ", at)) != std::string::npos;) {
    const size_t end = raw.find("\n\n", at);
    events.push_back(raw.substr(at + 6, end - at - 6));
    at = end;
  }
  return events;
}

TEST_F(ServerTest, StreamsAreTheSameTextInChunks) {
  start();
  put_history("sam", text_history(3, 2));
  const std::string prompt = "The big red ball";
  const auto [status, whole] = post("/v1/completions", completion(prompt, "sam", 10).dump());
  ASSERT_EQ(status, 200);
  auto c = client();
  json body = completion(prompt, "sam", 10);
  body["stream"] = true;
  auto events = read_events(c, "/v1/completions", body.dump());
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events.back(), "[DONE]");
  std::string text;
  std::string finish;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    const json chunk = json::parse(events[i]);
    EXPECT_EQ(chunk["object"], "text_completion");
    text += chunk["choices"][0]["text"].get<std::string>();
    if (!chunk["choices"][0]["finish_reason"].is_null())
      finish = chunk["choices"][0]["finish_reason"];
  }
  EXPECT_EQ(text, whole["choices"][0]["text"]);
  EXPECT_EQ(finish, whole["choices"][0]["finish_reason"]);

  // Chat streams: a role chunk, content deltas, a closing chunk, [DONE].
  const json chat = {{"messages", {{{"role", "user"}, {"content", prompt}}}},
                     {"user", "sam"},
                     {"max_tokens", 10},
                     {"temperature", 0},
                     {"stream", true}};
  events = read_events(c, "/v1/chat/completions", chat.dump());
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(json::parse(events.front())["choices"][0]["delta"]["role"], "assistant");
  std::string chat_text;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    const json delta = json::parse(events[i])["choices"][0]["delta"];
    if (delta.contains("content")) chat_text += delta["content"].get<std::string>();
  }
  EXPECT_EQ(chat_text, whole["choices"][0]["text"]);
}

TEST_F(ServerTest, BadInputGetsA4xxNamingTheFieldAndTheServerKeepsServing) {
  ServerOptions options;
  options.max_body_bytes = 4096;
  start(options);
  put_history("ok", text_history(2));
  struct Case {
    const char* path;
    std::string body;
    int status;
    std::string needle;  // in the message
    const char* method = "POST";
  };
  const std::vector<Case> cases = {
      {"/v1/completions", "{\"prompt\": \"hi\",", 400, "malformed JSON"},
      {"/v1/completions", "[1, 2]", 400, "JSON object"},
      {"/v1/completions", R"({"prompt": 5})", 400, "'prompt' must be a string"},
      {"/v1/completions", R"({"prompt": "hi", "max_tokens": "ten"})", 400, "'max_tokens'"},
      {"/v1/completions", R"({"prompt": "hi", "max_tokens": 0})", 400, "[1, 4096]"},
      {"/v1/completions", R"({"prompt": "hi", "temperature": -1})", 400, "'temperature'"},
      {"/v1/completions", R"({"prompt": "hi", "top_p": 1.5})", 400, "'top_p'"},
      {"/v1/completions", R"({"prompt": "hi", "stop": [1]})", 400, "'stop'"},
      {"/v1/completions", R"({"prompt": "hi", "n": 99})", 400, "'n'"},
      {"/v1/completions", R"({"prompt": "hi", "stream": "yes"})", 400, "'stream'"},
      {"/v1/completions", R"({"prompt": "hi", "user": "nobody"})", 404, "unknown user 'nobody'"},
      {"/v1/completions", R"({"prompt": "hi", "user": "../x"})", 400, "'user'"},
      {"/v1/completions", "{\"prompt\": \"bad \xff\xfe utf8\"}", 400, "malformed JSON"},
      // Found by fuzz_openai_request: a number past double's range is nlohmann's out_of_range
      // (not a parse_error), which escaped the parser as a 500.
      {"/v1/completions", R"({"prompt": "hi", "seed": 55555555555555e5555555555})", 400,
       "malformed JSON"},
      {"/v1/chat/completions", R"({"messages": [], "top_p": 1e999})", 400, "malformed JSON"},
      {"/v1/completions", R"({"prompt": ")" + std::string(5000, 'a') + "\"}", 413, "--max-body"},
      {"/v1/chat/completions", R"({"messages": []})", 400, "'messages'"},
      {"/v1/chat/completions", R"({"messages": [{"role": "bot", "content": "x"}]})", 400,
       "messages[0].role"},
      {"/v1/users/ok/history", R"([{"id": "t1", "title": "no text"}])", 400, "text"},
      {"/v1/users/ok/history", R"([{"id": "t1", "text": ["a"]}])", 400, "field 'text'"},
      {"/v1/users/ok/history", R"({"things": []})", 400, "items"},
      {"/v1/users/ok/history", R"([{"id": "t1", "text": "x", "score": 1e999}])", 400,
       "malformed JSON"},
      {"/v1/users/ok/history", R"([{"id": "h0", "text": "dup"}])", 400, "'h0'"},
      {"/v1/users/a..b/history", "[]", 400, "user id"},
      {"/v1/users/..%2Fx/history", "[]", 404, "no route"},
      {"/v1/nothing", "{}", 404, "no route"},
  };
  for (const auto& c : cases) {
    const auto [status, body] = post(c.path, c.body, c.method);
    EXPECT_EQ(status, c.status) << c.path << " " << c.body.substr(0, 80) << " -> " << body.dump();
    const json e = error_of(body);
    EXPECT_NE(e.value("message", "").find(c.needle), std::string::npos)
        << c.body.substr(0, 80) << " -> " << body.dump();
  }
  EXPECT_EQ(get("/health").first, 200);
  EXPECT_EQ(get("/v1/users/ok").second["items"], 2);  // the refused updates changed nothing
  EXPECT_EQ(post("/v1/completions", completion("hi", "ok", 3).dump()).first, 200);
}

TEST_F(ServerTest, DeeplyNestedJsonAndADamagedRecordGetErrorsNotACrash) {
  start();
  // 300,000 nested arrays: quoting the value whole in the message would recurse that deep.
  const std::string deep = std::string(300000, '[') + std::string(300000, ']');
  auto [status, body] = post("/v1/completions", R"({"prompt": )" + deep + "}");
  EXPECT_EQ(status, 400);
  EXPECT_NE(error_of(body)["message"].get<std::string>().find("a JSON array of 1 elements"),
            std::string::npos)
      << body.dump();
  std::tie(status, body) = post("/v1/users/deep/history", R"([{"text": )" + deep + "}]");
  EXPECT_EQ(status, 400);
  EXPECT_NE(error_of(body)["message"].get<std::string>().find("field 'text'"), std::string::npos);
  // cpp-httplib caps form-encoded bodies (curl -d's default type) at 8 KB: the message says so.
  auto c = client();
  auto form =
      c.Post("/v1/completions", std::string(9000, 'a'), "application/x-www-form-urlencoded");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->status, 413);
  EXPECT_NE(error_of(json::parse(form->body))["message"].get<std::string>().find(
                "'Content-Type: application/json'"),
            std::string::npos)
      << form->body;
  // A record damaged on disk is the server's fault (500), and only that user's requests fail.
  put_history("broken", text_history(2));
  put_history("fine", text_history(2));
  stop();
  UserStore store(store_dir_, store_identity(*tiny_.plug));
  std::ofstream(store.user_path("broken"), std::ios::binary | std::ios::trunc) << "garbage";
  start();
  std::tie(status, body) = post("/v1/completions", completion("hi", "broken", 2).dump());
  EXPECT_EQ(status, 500);
  EXPECT_EQ(error_of(body)["type"], "server_error");
  auto damaged = client().Get("/v1/users/broken");
  ASSERT_TRUE(damaged);
  EXPECT_EQ(damaged->status, 500);
  // Retrying does not mend a damaged file: OpenAI's clients are told not to.
  EXPECT_EQ(damaged->get_header_value("x-should-retry"), "false");
  EXPECT_EQ(post("/v1/completions", completion("hi", "fine", 2).dump()).first, 200);
}

TEST_F(ServerTest, AnApiKeyGuardsEveryRoute) {
  ServerOptions options;
  options.api_key = "sesame";
  start(options);
  for (const char* path : {"/health", "/v1/models", "/metrics", "/v1/users/x"}) {
    httplib::Client anonymous("127.0.0.1", port_);
    auto r = anonymous.Get(path);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401) << path;
    EXPECT_EQ(error_of(json::parse(r->body))["type"], "authentication_error");
    httplib::Client wrong("127.0.0.1", port_);
    wrong.set_bearer_token_auth("sesame2");
    EXPECT_EQ(wrong.Get(path)->status, 401) << path;
  }
  httplib::Client anonymous("127.0.0.1", port_);
  EXPECT_EQ(
      anonymous.Post("/v1/completions", completion("hi", "", 2).dump(), "application/json")->status,
      401);
  EXPECT_EQ(get("/health").first, 200);  // client() sends the key
  EXPECT_EQ(get("/v1/models").second["data"][0]["id"], "tiny");
  EXPECT_EQ(post("/v1/completions", completion("hi", "", 2).dump()).first, 200);
}

TEST_F(ServerTest, ARefusedKeyClosesTheConnectionSoItsBodyIsNotReadAsARequest) {
  // The 401 goes out before the body is read; on a kept-alive connection that body must not
  // become the next request (a client's pooled connection would then get a stray 400).
  ServerOptions options;
  options.api_key = "sesame";
  start(options);
  httplib::Client wrong("127.0.0.1", port_);
  wrong.set_keep_alive(true);
  wrong.set_bearer_token_auth("sesame2");
  const std::string history =
      R"([{"id": "a", "text": "one"}, {"id": "b", "text": "two"}, {"id": "c", "text": "three"}])";
  for (int i = 0; i < 3; ++i) {
    auto r = wrong.Put("/v1/users/bob/history", history, "application/json");
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->status, 401) << i << " " << r->body;
    EXPECT_EQ(r->get_header_value("Connection"), "close");
  }
}

TEST_F(ServerTest, StreamUsageAndRetryHeadersFollowOpenAiClients) {
  start();
  put_history("sam", text_history(2, 1));
  json body = completion("The dog", "sam", 6);
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  auto c = client();
  const auto events = read_events(c, "/v1/completions", body.dump());
  ASSERT_GE(events.size(), 3u);
  ASSERT_EQ(events.back(), "[DONE]");
  const json last = json::parse(events[events.size() - 2]);
  EXPECT_TRUE(last["choices"].empty()) << last.dump();
  EXPECT_GT(last["usage"]["completion_tokens"].get<int>(), 0);
  EXPECT_TRUE(json::parse(events.front()).contains("usage"));  // null on the other chunks
  // A client error is the client's to mend: no retry hint either way.
  auto r = c.Get("/v1/users/nobody");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_FALSE(r->has_header("x-should-retry"));
}

TEST_F(ServerTest, ChatMessagesAreRenderedWithTheModelsTemplate) {
  ServerOptions options;
  options.chat_template = std::make_shared<const ChatTemplate>(ChatTemplate::named("chatml"));
  start(options);
  const json chat = {{"messages",
                      {{{"role", "system"}, {"content", "Be brief."}},
                       {{"role", "user"}, {"content", "Once upon a time"}}}},
                     {"max_tokens", 6},
                     {"temperature", 0}};
  const auto [status, body] = post("/v1/chat/completions", chat.dump());
  ASSERT_EQ(status, 200) << body.dump();
  // The same text generated from the rendered conversation directly.
  const std::string rendered = ChatTemplate::named("chatml").render(
      {{"system", "Be brief."}, {"user", "Once upon a time"}}, /*add_generation_prompt=*/true);
  EXPECT_NE(rendered.find("<|im_start|>assistant\n"), std::string::npos);
  const auto expected =
      Generator(tiny_.llm.model, tiny_.llm.tokenizer).generate(rendered, greedy(6));
  EXPECT_EQ(body["choices"][0]["message"]["content"], expected.text);
  EXPECT_EQ(body["usage"]["prompt_tokens"], expected.prompt_ids.size());
  // What the template refuses (Gemma 2 has no system turn) is the client's 400, naming it.
  stop();
  options.chat_template = std::make_shared<const ChatTemplate>(ChatTemplate::named("gemma2"));
  start(options);
  const auto [refused, error] = post("/v1/chat/completions", chat.dump());
  EXPECT_EQ(refused, 400);
  EXPECT_NE(error.dump().find("gemma2"), std::string::npos) << error.dump();
}

TEST_F(ServerTest, UsersAreCreatedAppendedReadAndDeleted) {
  start();
  put_history("ann", text_history(2));
  const json more = {{"items", {{{"id", "n1"}, {"text", "a new story"}}}}};
  const auto [status, body] = post("/v1/users/ann/history", more.dump());
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["items"], 3);
  EXPECT_EQ(body["encoded"], 1);
  const auto [got, user] = get("/v1/users/ann");
  EXPECT_EQ(got, 200);
  EXPECT_EQ(user["items"], 3);
  EXPECT_EQ(user["plugin_fingerprint"], tiny_.plug->fingerprint());
  auto c = client();
  auto r = c.Delete("/v1/users/ann");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(get("/v1/users/ann").first, 404);
  EXPECT_EQ(c.Delete("/v1/users/ann")->status, 404);
  EXPECT_EQ(post("/v1/completions", completion("hi", "ann", 2).dump()).first, 404);
  const std::string metrics = c.Get("/metrics")->body;
  EXPECT_NE(metrics.find("pplug_requests_total{route=\"/v1/users/{id}\",status=\"404\"}"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("pplug_batch_rows_count"), std::string::npos);
}

TEST_F(ServerTest, ARestartedServerServesTheSameEmbeddings) {
  start();
  put_history("rita", text_history(4, 5));
  const std::string body = completion("A walk in the park", "rita", 8).dump();
  const auto before = post("/v1/completions", body);
  ASSERT_EQ(before.first, 200);
  stop();
  start();  // a new server and store on the same folder: nothing cached
  const auto after = post("/v1/completions", body);
  ASSERT_EQ(after.first, 200) << after.second.dump();
  EXPECT_EQ(after.second["choices"][0]["text"], before.second["choices"][0]["text"]);
  EXPECT_EQ(get("/v1/users/rita").second["items"], 4);
}

}  // namespace
}  // namespace pplug::serve
