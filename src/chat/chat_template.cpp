// ChatTemplate's named formats, the checks every render shares, and the dispatch to the
// family renderers (chat_render.cpp). Detection from a Jinja source is chat_detect.cpp.
#include "pplug/chat_template.h"

#include "pplug/error.h"

namespace pplug {
std::vector<std::string> ChatTemplate::names() {
  return {"llama3",     "chatml",     "qwen3",      "mistral",
          "mistral-v0", "mistral-v1", "mistral-v3", "mistral-v3-tekken",
          "llama2",     "gemma",      "gemma2",     "phi3",
          "plain"};
}

ChatTemplate ChatTemplate::named(const std::string& name) {
  ChatTemplate t;
  t.name_ = name;
  const auto inst = [&t](const char* n, const char* open, const char* close, const char* reply,
                         SystemPolicy system) {
    t.format_ = ChatFormat::kMistral;
    t.name_ = n;
    t.bos_ = "<s>";
    t.eos_ = t.end_of_turn_ = "</s>";
    t.writes_bos_ = true;
    t.inst_open_ = open;
    t.inst_close_ = close;
    t.reply_prefix_ = reply;
    t.system_ = system;
  };
  if (name == "llama3") {
    t.format_ = ChatFormat::kLlama3;
    t.bos_ = "<|begin_of_text|>";
    t.eos_ = "<|end_of_text|>";
    t.end_of_turn_ = "<|eot_id|>";
    t.writes_bos_ = true;
  } else if (name == "chatml" || name == "qwen3") {
    t.format_ = ChatFormat::kChatml;
    t.eos_ = t.end_of_turn_ = "<|im_end|>";
    t.qwen_thinking_ = name == "qwen3";
  } else if (name == "mistral" || name == "mistral-v3") {
    inst("mistral-v3", "[INST] ", "[/INST]", " ", SystemPolicy::kLastUser);
    t.trim_reply_ = true;
  } else if (name == "mistral-v0") {
    inst("mistral-v0", "[INST] ", " [/INST]", "", SystemPolicy::kRefused);
  } else if (name == "mistral-v1") {
    inst("mistral-v1", " [INST] ", " [/INST]", " ", SystemPolicy::kFirstUser);
  } else if (name == "mistral-v3-tekken") {
    inst("mistral-v3-tekken", "[INST]", "[/INST]", "", SystemPolicy::kLastUser);
  } else if (name == "llama2") {
    inst("llama2", "[INST] ", " [/INST]", " ", SystemPolicy::kFirstUser);
    t.format_ = ChatFormat::kLlama2;
  } else if (name == "gemma" || name == "gemma2") {
    t.format_ = ChatFormat::kGemma;
    t.bos_ = "<bos>";
    t.eos_ = "<eos>";
    t.end_of_turn_ = "<end_of_turn>";
    t.writes_bos_ = true;
    t.system_ = name == "gemma" ? SystemPolicy::kFirstUser : SystemPolicy::kRefused;
  } else if (name == "phi3") {
    t.format_ = ChatFormat::kPhi3;
    t.bos_ = "<s>";
    t.eos_ = "<|endoftext|>";
    t.end_of_turn_ = "<|end|>";
    t.eos_without_generation_prompt_ = true;
  } else if (name == "plain") {
    // A base model reads the conversation as text after its BOS, whatever the tokenizer's is.
    t.writes_bos_ = true;
  } else {
    std::string list;
    for (const auto& n : names()) list += (list.empty() ? "" : ", ") + n;
    throw InvalidArgument("unknown chat template '" + name + "': expected one of " + list);
  }
  return t;
}

ChatTemplate ChatTemplate::with_special_tokens(const std::string& bos,
                                               const std::string& eos) const {
  ChatTemplate t = *this;
  const bool eos_ends_turns = t.end_of_turn_ == t.eos_;
  if (!bos.empty()) t.bos_ = bos;
  if (!eos.empty()) t.eos_ = eos;
  if (eos_ends_turns) t.end_of_turn_ = t.eos_;
  return t;
}

ChatTemplate ChatTemplate::with_thinking(bool enable) const {
  ChatTemplate t = *this;
  t.thinking_ = enable;
  return t;
}

std::string ChatTemplate::render(const std::vector<ChatMessage>& messages,
                                 bool add_generation_prompt) const {
  if (messages.empty()) {
    throw InvalidArgument("chat template " + name_ + ": the conversation has no messages");
  }
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string& role = messages[i].role;
    if (role != "system" && role != "user" && role != "assistant") {
      throw InvalidArgument("chat template " + name_ + ": message " + std::to_string(i) +
                            " has role '" + role + "', expected system, user or assistant");
    }
  }
  const bool gen = add_generation_prompt || always_generation_prompt_;
  switch (format_) {
    case ChatFormat::kLlama3:
      return render_llama3(messages, gen);
    case ChatFormat::kChatml:
      return render_chatml(messages, gen);
    case ChatFormat::kMistral:
    case ChatFormat::kLlama2:
      return render_inst(messages);  // the [/INST] of the last user turn is the prompt
    case ChatFormat::kGemma:
      return render_gemma(messages, gen);
    case ChatFormat::kPhi3:
      return render_phi3(messages, gen);
    case ChatFormat::kPlain:
      break;
  }
  return render_plain(messages, gen);
}

std::string ChatTemplate::hf_text(const std::vector<ChatMessage>& messages,
                                  bool add_generation_prompt) const {
  std::string text = render(messages, add_generation_prompt);
  return writes_bos_ ? bos_ + text : text;
}

}  // namespace pplug
