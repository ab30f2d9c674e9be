#include "serve/openai_request.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <random>

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

std::string chat_input(const json& body) {
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
    const auto content = m.find("content");
    if (role == m.end() || !role->is_string() ||
        (*role != "system" && *role != "user" && *role != "assistant")) {
      throw bad_field(at + ".role", "'" + at + ".role' must be \"system\", \"user\" or " +
                                        "\"assistant\", got " +
                                        (role == m.end() ? std::string("nothing") : shown(*role)));
    }
    if (content == m.end() || !content->is_string()) {
      throw bad_field(at + ".content",
                      "'" + at + ".content' must be a string, got " +
                          (content == m.end() ? std::string("nothing") : shown(*content)));
    }
    messages.emplace_back(role->get<std::string>(), content->get<std::string>());
  }
  return render_chat(messages);
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

CompletionRequest parse_completion_request(const std::string& body, Endpoint endpoint,
                                           const RequestLimits& limits) {
  json doc;
  try {
    doc = json::parse(body);  // rejects invalid UTF-8 in strings too
  } catch (const json::parse_error& e) {
    throw ApiError(400, std::string("malformed JSON body: ") + e.what());
  }
  if (!doc.is_object()) {
    throw ApiError(400,
                   std::string("the body must be a JSON object, got a JSON ") + doc.type_name());
  }
  CompletionRequest r;
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
  r.input = endpoint == Endpoint::kChat ? chat_input(doc) : completion_input(doc);
  const int default_tokens = endpoint == Endpoint::kChat ? 256 : 16;
  // Newer chat clients send max_completion_tokens instead of max_tokens.
  const char* tokens_field = endpoint == Endpoint::kChat && member(doc, "max_completion_tokens")
                                 ? "max_completion_tokens"
                                 : "max_tokens";
  r.options.max_new_tokens = integer_in(doc, tokens_field, 1, limits.max_tokens,
                                        std::min(default_tokens, limits.max_tokens));
  r.options.temperature = number_in(doc, "temperature", 0, 2, false, "[0, 2]", 1.0f);
  r.options.top_p = number_in(doc, "top_p", 0, 1, true, "(0, 1]", 1.0f);
  r.options.stop_strings = stop_strings(doc);
  r.n = integer_in(doc, "n", 1, limits.max_n, 1);
  if (const json* seed = member(doc, "seed")) {
    if (!seed->is_number_integer()) {
      throw bad_field("seed", "'seed' must be an integer, got " + shown(*seed));
    }
    r.options.seed = seed->is_number_unsigned() ? seed->get<uint64_t>()
                                                : static_cast<uint64_t>(seed->get<int64_t>());
  } else {
    r.options.seed = std::random_device{}();
  }
  if (const json* stream = member(doc, "stream")) {
    if (!stream->is_boolean()) {
      throw bad_field("stream", "'stream' must be true or false, got " + shown(*stream));
    }
    r.stream = stream->get<bool>();
  }
  return r;
}

}  // namespace pplug::serve
