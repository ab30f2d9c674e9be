// The family renderers: each reproduces its published Jinja template's output for system, user
// and assistant messages (the sources are quoted in docs/chat.md). Every one starts after the
// BOS; ChatTemplate::render has checked the roles and that there is a message.
#include "chat/chat_text.h"
#include "pplug/chat_template.h"
#include "pplug/error.h"

namespace pplug {
namespace {

using detail::py_strip;
using detail::strip_chars;

// The messages after an optional leading system message, whose content goes to `system`.
std::vector<const ChatMessage*> split_system(const std::vector<ChatMessage>& m,
                                             const std::string** system) {
  std::vector<const ChatMessage*> rest;
  *system = nullptr;
  for (size_t i = 0; i < m.size(); ++i) {
    if (i == 0 && m[i].role == "system") {
      *system = &m[i].content;
    } else {
      rest.push_back(&m[i]);
    }
  }
  return rest;
}

// The templates that raise unless user and assistant alternate, user first.
void check_alternation(const std::vector<const ChatMessage*>& loop, const std::string& name) {
  for (size_t i = 0; i < loop.size(); ++i) {
    const char* want = i % 2 == 0 ? "user" : "assistant";
    if (loop[i]->role != want) {
      throw InvalidArgument("chat template " + name + ": after the optional system message, " +
                            "roles must alternate user/assistant/user/...; message " +
                            std::to_string(i) + " is " + loop[i]->role);
    }
  }
}

[[noreturn]] void refuse_system(const std::string& name) {
  throw InvalidArgument("chat template " + name +
                        ": the template has no system role (it raises on a system message); " +
                        "put the instructions in the first user message");
}

// Qwen3's split of an assistant message written as "<think>reasoning</think>answer".
void split_thinking(const std::string& c, std::string* reasoning, std::string* answer) {
  const size_t close = c.find("</think>");
  if (close == std::string::npos) {
    reasoning->clear();
    *answer = c;
    return;
  }
  // content.split('</think>')[-1].lstrip('\n'): after the last </think>.
  *answer = strip_chars(std::string_view(c).substr(c.rfind("</think>") + 8), "\n", true, false);
  // content.split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n')
  const std::string head = strip_chars(std::string_view(c).substr(0, close), "\n", false, true);
  const size_t open = head.rfind("<think>");
  const std::string_view after =
      open == std::string::npos ? std::string_view(head) : std::string_view(head).substr(open + 7);
  *reasoning = strip_chars(after, "\n", true, false);
}

}  // namespace

std::string ChatTemplate::render_llama3(const std::vector<ChatMessage>& m, bool gen) const {
  std::string out;
  for (const auto& msg : m) {
    out += "<|start_header_id|>" + msg.role + "<|end_header_id|>\n\n" + py_strip(msg.content) +
           "<|eot_id|>";
  }
  if (gen) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  return out;
}

std::string ChatTemplate::render_chatml(const std::vector<ChatMessage>& m, bool gen) const {
  std::string out;
  if (!default_system_.empty() && m[0].role != "system") {
    out += "<|im_start|>system\n" + default_system_ + "<|im_end|>\n";
  }
  // Qwen3: the index of the last user message (its "query"); reasoning is kept only after it.
  size_t last_query = m.size() - 1;
  for (size_t i = m.size(); i-- > 0;) {
    const std::string& c = m[i].content;
    const bool tool_response = c.rfind("<tool_response>", 0) == 0 && c.size() >= 16 &&
                               c.compare(c.size() - 16, 16, "</tool_response>") == 0;
    if (m[i].role == "user" && !tool_response) {
      last_query = i;
      break;
    }
  }
  for (size_t i = 0; i < m.size(); ++i) {
    const ChatMessage& msg = m[i];
    if (!qwen_thinking_ || msg.role != "assistant") {
      out += "<|im_start|>" + msg.role + "\n" + msg.content + "<|im_end|>\n";
      continue;
    }
    std::string reasoning, answer;
    split_thinking(msg.content, &reasoning, &answer);
    if (i > last_query && (i + 1 == m.size() || !reasoning.empty())) {
      out += "<|im_start|>assistant\n<think>\n" + strip_chars(reasoning, "\n", true, true) +
             "\n</think>\n\n" + strip_chars(answer, "\n", true, false);
    } else {
      out += "<|im_start|>assistant\n" + answer;
    }
    out += "<|im_end|>\n";
  }
  if (gen) {
    out += "<|im_start|>assistant\n";
    if (qwen_thinking_ && !thinking_) out += "<think>\n\n</think>\n\n";
  }
  return out;
}

std::string ChatTemplate::render_inst(const std::vector<ChatMessage>& m) const {
  const std::string* system = nullptr;
  const auto loop = split_system(m, &system);
  if (system != nullptr && system_ == SystemPolicy::kRefused) refuse_system(name_);
  check_alternation(loop, name_);
  const bool llama2 = format_ == ChatFormat::kLlama2;
  std::string out;
  for (size_t i = 0; i < loop.size(); ++i) {
    const std::string& c = loop[i]->content;
    if (loop[i]->role == "assistant") {
      if (llama2) {
        out += " " + py_strip(c) + " " + eos_;
      } else {
        out += reply_prefix_ + (trim_reply_ ? py_strip(c) : c) + eos_;
      }
      continue;
    }
    const bool with_system =
        system != nullptr && (system_ == SystemPolicy::kFirstUser ? i == 0 : i + 1 == loop.size());
    if (llama2) {
      // Llama 2 writes BOS before every user turn; render() starts after the first.
      const std::string text = with_system ? "<<SYS>>\n" + *system + "\n<</SYS>>\n\n" + c : c;
      out += (i == 0 ? "" : bos_) + inst_open_ + py_strip(text) + inst_close_;
    } else {
      out += inst_open_ + (with_system ? *system + "\n\n" : "") + c + inst_close_;
    }
  }
  return out;
}

std::string ChatTemplate::render_gemma(const std::vector<ChatMessage>& m, bool gen) const {
  const std::string* system = nullptr;
  const auto loop = split_system(m, &system);
  if (system != nullptr && system_ == SystemPolicy::kRefused) refuse_system(name_);
  check_alternation(loop, name_);
  std::string out;
  for (size_t i = 0; i < loop.size(); ++i) {
    const char* role = loop[i]->role == "assistant" ? "model" : "user";
    // Gemma 3: the system text and a blank line open the first turn, untrimmed.
    const std::string prefix = i == 0 && system != nullptr ? *system + system_separator_ : "";
    out += std::string("<start_of_turn>") + role + "\n" + prefix + py_strip(loop[i]->content) +
           "<end_of_turn>\n";
  }
  if (gen) out += "<start_of_turn>model\n";
  return out;
}

std::string ChatTemplate::render_phi3(const std::vector<ChatMessage>& m, bool gen) const {
  std::string out;
  if (system_ == SystemPolicy::kDropped) {
    // The first Phi-3-mini/medium template: the assistant header follows every user turn.
    for (const auto& msg : m) {
      if (msg.role == "user") out += "<|user|>\n" + msg.content + "<|end|>\n<|assistant|>\n";
      if (msg.role == "assistant") out += msg.content + "<|end|>\n";
    }
    return out;
  }
  for (const auto& msg : m) {
    if (msg.role == "system" && skip_empty_system_ && msg.content.empty()) continue;
    out += "<|" + msg.role + "|>\n" + msg.content + "<|end|>\n";
  }
  if (gen) {
    out += "<|assistant|>\n";
  } else if (eos_without_generation_prompt_) {
    out += eos_;
  }
  return out;
}

std::string ChatTemplate::render_plain(const std::vector<ChatMessage>& m, bool gen) const {
  std::string out;
  for (const auto& msg : m) {
    if (msg.role == "system") {
      out += msg.content + "\n\n";
    } else {
      out += (msg.role == "user" ? "User: " : "Assistant: ") + msg.content + "\n";
    }
  }
  if (gen) out += "Assistant:";
  return out;
}

}  // namespace pplug
