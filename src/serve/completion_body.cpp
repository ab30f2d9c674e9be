#include "serve/completion_body.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <random>

#include "pplug/error.h"
#include "serve/api_error.h"
#include "serve/json_excerpt.h"
#include "serve/user_id.h"

namespace pplug::serve {
namespace {

using nlohmann::json;

constexpr size_t kMaxStops = 4;  // OpenAI's bound on `stop`

std::string shown(const json& value) { return json_excerpt(value); }

// Field `name` when present and not null.
const json* member(const json& body, const char* name) {
  const auto it = body.find(name);
  return it == body.end() || it->is_null() ? nullptr : &*it;
}

int integer_in(const json& body, const char* name, int lo, int hi, int fallback) {
  const json* v = member(body, name);
  if (!v) return fallback;
  if (!v->is_number_integer() || v->get<int64_t>() < lo || v->get<int64_t>() > hi) {
    throw bad_field(name, std::string("'") + name + "' must be an integer in [" +
                              std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                              shown(*v));
  }
  return static_cast<int>(v->get<int64_t>());
}

// A finite number in [lo, hi] ((lo, hi] when lo_open); `range` spells the interval.
float number_in(const json& body, const char* name, double lo, double hi, bool lo_open,
                const char* range, float fallback) {
  const json* v = member(body, name);
  if (!v) return fallback;
  const bool ok = v->is_number() && std::isfinite(v->get<double>()) &&
                  (lo_open ? v->get<double>() > lo : v->get<double>() >= lo) &&
                  v->get<double>() <= hi;
  if (!ok) {
    throw bad_field(
        name, std::string("'") + name + "' must be a number in " + range + ", got " + shown(*v));
  }
  return v->get<float>();
}

std::string string_field(const json& body, const char* name) {
  const json* v = member(body, name);
  if (!v) return "";
  if (!v->is_string()) {
    throw bad_field(name, std::string("'") + name + "' must be a string, got " + shown(*v));
  }
  return v->get<std::string>();
}

std::vector<std::string> stop_strings(const json& body) {
  const json* v = member(body, "stop");
  if (!v) return {};
  const auto refused = [&] {
    return bad_field("stop",
                     "'stop' must be a non-empty string or an array of at most 4 of "
                     "them, got " +
                         shown(*v));
  };
  std::vector<std::string> out;
  if (v->is_string()) {
    out.push_back(v->get<std::string>());
  } else if (v->is_array() && v->size() <= kMaxStops) {
    for (const auto& s : *v) {
      if (!s.is_string()) throw refused();
      out.push_back(s.get<std::string>());
    }
  } else {
    throw refused();
  }
  for (const auto& s : out) {
    if (s.empty()) throw refused();
  }
  return out;
}

std::string completion_input(const json& body) {
  const json* v = member(body, "prompt");
  if (v && v->is_string()) return v->get<std::string>();
  if (v && v->is_array() && v->size() == 1 && (*v)[0].is_string()) {
    return (*v)[0].get<std::string>();
  }
  if (!v) throw bad_field("prompt", "'prompt' is required");
  throw bad_field("prompt",
                  "'prompt' must be a string (or an array of one string), got " + shown(*v));
}

// A message's content: a string, or (what newer clients send) an array of content parts, of
// which only text parts can be rendered; their texts are joined by newlines.
std::string message_content(const json& m, const std::string& at) {
  const auto content = m.find("content");
  if (content != m.end() && content->is_string()) return content->get<std::string>();
  if (content == m.end() || !content->is_array()) {
    throw bad_field(at + ".content",
                    "'" + at + ".content' must be a string or an array of text parts, got " +
                        (content == m.end() ? std::string("nothing") : shown(*content)));
  }
  std::string text;
  for (size_t j = 0; j < content->size(); ++j) {
    const json& part = (*content)[j];
    const std::string part_at = at + ".content[" + std::to_string(j) + "]";
    const auto type = part.is_object() ? part.find("type") : part.end();
    if (!part.is_object() || type == part.end() || *type != "text") {
      throw bad_field(part_at + ".type",
                      "'" + part_at + ".type' must be \"text\" (only text parts are supported), " +
                          "got " +
                          (!part.is_object()    ? shown(part)
                           : type == part.end() ? std::string("nothing")
                                                : shown(*type)));
    }
    const auto part_text = part.find("text");
    if (part_text == part.end() || !part_text->is_string()) {
      throw bad_field(part_at + ".text",
                      "'" + part_at + ".text' must be a string, got " +
                          (part_text == part.end() ? std::string("nothing") : shown(*part_text)));
    }
    if (j > 0) text += "\n";
    text += part_text->get<std::string>();
  }
  return text;
}

std::string chat_input(const json& body, const ChatTemplate* chat) {
  const json* v = member(body, "messages");
  if (!v) throw bad_field("messages", "'messages' is required");
  if (!v->is_array() || v->empty()) {
    throw bad_field("messages",
                    "'messages' must be a non-empty array of {role, content}, got " + shown(*v));
  }
  std::vector<std::pair<std::string, std::string>> messages;
  for (size_t i = 0; i < v->size(); ++i) {
    const json& m = (*v)[i];
    const std::string at = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) throw bad_field(at, "'" + at + "' must be an object, got " + shown(m));
    const auto role = m.find("role");
    if (role == m.end() || !role->is_string() ||
        (*role != "system" && *role != "developer" && *role != "user" && *role != "assistant")) {
      throw bad_field(at + ".role", "'" + at + ".role' must be \"system\", \"developer\", " +
                                        "\"user\" or \"assistant\", got " +
                                        (role == m.end() ? std::string("nothing") : shown(*role)));
    }
    // "developer" is OpenAI's newer name for the system role (clients send it to newer models):
    // rendered as "system" so that the model's input does not depend on which name came.
    messages.emplace_back(*role == "developer" ? "system" : role->get<std::string>(),
                          message_content(m, at));
  }
  if (chat == nullptr) return render_chat(messages);
  std::vector<ChatMessage> conversation;
  conversation.reserve(messages.size());
  for (auto& [role, content] : messages) conversation.push_back({role, std::move(content)});
  try {
    return chat->render(conversation, /*add_generation_prompt=*/true);
  } catch (const InvalidArgument& e) {  // what the template refuses (a system turn, say)
    throw bad_field("messages", std::string("the model's chat template (") + chat->name() +
                                    ") refuses these messages: " + e.what());
  }
}

// stream_options.include_usage. OpenAI refuses stream_options on a request that does not
// stream, so a client relying on the usage chunk learns at once that it will not come.
bool include_usage(const json& body, bool stream) {
  const json* v = member(body, "stream_options");
  if (!v) return false;
  if (!stream) {
    throw bad_field("stream_options", "'stream_options' is only allowed when 'stream' is true");
  }
  if (!v->is_object()) {
    throw bad_field("stream_options", "'stream_options' must be an object, got " + shown(*v));
  }
  const json* usage = member(*v, "include_usage");
  if (!usage) return false;
  if (!usage->is_boolean()) {
    throw bad_field("stream_options.include_usage",
                    "'stream_options.include_usage' must be true or false, got " + shown(*usage));
  }
  return usage->get<bool>();
}

}  // namespace

std::string render_chat(const std::vector<std::pair<std::string, std::string>>& messages) {
  if (messages.size() == 1) return messages.front().second;
  std::string out;
  for (const auto& [role, content] : messages) {
    if (!out.empty()) out += "\n";
    out += role + ": " + content;
  }
  return out;
}

CompletionBody parse_completion_body(const std::string& body, Endpoint endpoint,
                                     const RequestLimits& limits, const ChatTemplate* chat) {
  json doc;
  try {
    doc = json::parse(body);            // rejects invalid UTF-8 in strings too
  } catch (const json::exception& e) {  // parse_error, and out_of_range for a number like 1e999
    throw ApiError(400, std::string("malformed JSON body: ") + e.what());
  }
  if (!doc.is_object()) {
    throw ApiError(400,
                   std::string("the body must be a JSON object, got a JSON ") + doc.type_name());
  }
  CompletionBody r;
  r.endpoint = endpoint;
  r.model = string_field(doc, "model");
  r.user = string_field(doc, "user");
  if (!r.user.empty()) {
    try {
      validate_user_id(r.user, "'user'");
    } catch (const std::exception& e) {
      throw bad_field("user", e.what());
    }
  }
  r.input = endpoint == Endpoint::kChat ? chat_input(doc, chat) : completion_input(doc);
  const int default_tokens = endpoint == Endpoint::kChat ? 256 : 16;
  // Newer chat clients send max_completion_tokens instead of max_tokens.
  const char* tokens_field = endpoint == Endpoint::kChat && member(doc, "max_completion_tokens")
                                 ? "max_completion_tokens"
                                 : "max_tokens";
  r.max_new_tokens = integer_in(doc, tokens_field, 1, limits.max_tokens,
                                std::min(default_tokens, limits.max_tokens));
  r.temperature = number_in(doc, "temperature", 0, 2, false, "[0, 2]", 1.0f);
  // OpenAI accepts top_p 0 (clients send it for determinism): the smallest set of tokens with
  // mass >= 0 is the most likely token alone, i.e. greedy decoding, which the library's sampler
  // (top_p in (0, 1]) gets as temperature 0.
  r.top_p = number_in(doc, "top_p", 0, 1, false, "[0, 1]", 1.0f);
  if (r.top_p == 0.0f) {
    r.temperature = 0.0f;
    r.top_p = 1.0f;
  }
  r.stop_strings = stop_strings(doc);
  r.n = integer_in(doc, "n", 1, limits.max_n, 1);
  if (const json* seed = member(doc, "seed")) {
    if (!seed->is_number_integer()) {
      throw bad_field("seed", "'seed' must be an integer, got " + shown(*seed));
    }
    r.seed = seed->is_number_unsigned() ? seed->get<uint64_t>()
                                        : static_cast<uint64_t>(seed->get<int64_t>());
  } else {
    r.seed = std::random_device{}();
  }
  if (const json* stream = member(doc, "stream")) {
    if (!stream->is_boolean()) {
      throw bad_field("stream", "'stream' must be true or false, got " + shown(*stream));
    }
    r.stream = stream->get<bool>();
  }
  r.include_usage = include_usage(doc, r.stream);
  return r;
}

}  // namespace pplug::serve
