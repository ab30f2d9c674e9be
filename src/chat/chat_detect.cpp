// ChatTemplate::detect: the family of a Jinja chat template from its markers, and the variant
// from the phrases that tell its published versions apart. Only what is recognised is rendered:
// a family marker without a known variant is an error too, never a guess.
#include <algorithm>

#include "pplug/chat_template.h"
#include "pplug/error.h"

namespace pplug {
namespace {

// The source with double quotes turned into single ones, so a phrase is found whichever quote
// the template's string literals use.
std::string single_quoted(std::string s) {
  std::replace(s.begin(), s.end(), '"', '\'');
  return s;
}

bool has(const std::string& s, const char* phrase) { return s.find(phrase) != std::string::npos; }

// Qwen2/2.5's default system turn: the literal text in '<|im_start|>system\nTEXT<|im_end|>'
// (the newline written as the escape \n inside the Jinja string, or as a real newline).
std::string chatml_default_system(const std::string& s) {
  for (const char* head : {"<|im_start|>system\\n", "<|im_start|>system\n"}) {
    for (size_t at = s.find(head); at != std::string::npos; at = s.find(head, at + 1)) {
      const size_t begin = at + std::char_traits<char>::length(head);
      const size_t end = s.find("<|im_end|>", begin);
      if (end == std::string::npos) continue;
      const std::string text = s.substr(begin, end - begin);
      // A literal, not an expression ('...' + messages[0]['content'] + '...').
      if (!text.empty() && text.find('\'') == std::string::npos) return text;
    }
  }
  return {};
}

// Gemma 3: the literal in "first_user_prefix = messages[0]['content'] + '...'", escapes
// \n read as newlines ("\n\n" when absent).
std::string gemma_separator(const std::string& s) {
  const std::string head = "first_user_prefix = messages[0]['content'] + '";
  const size_t at = s.find(head);
  if (at == std::string::npos) return "\n\n";
  const size_t begin = at + head.size();
  const size_t end = s.find('\'', begin);
  if (end == std::string::npos) return "\n\n";
  std::string sep;
  for (size_t i = begin; i < end; ++i) {
    if (s[i] == '\\' && i + 1 < end && s[i + 1] == 'n') {
      sep += '\n';
      ++i;
    } else {
      sep += s[i];
    }
  }
  return sep;
}

[[noreturn]] void unknown(const std::string& origin, const std::string& why) {
  std::string list;
  for (const auto& n : ChatTemplate::names()) list += (list.empty() ? "" : ", ") + n;
  throw FormatError((origin.empty() ? std::string("chat template") : origin) + ": " + why +
                    "; give the format explicitly: pplug generate --chat-template NAME, or "
                    "ChatTemplate::named(NAME), NAME one of " +
                    list);
}

}  // namespace

ChatTemplate ChatTemplate::detect(const std::string& jinja_source, const std::string& origin) {
  const std::string s = single_quoted(jinja_source);
  const bool bos = has(s, "bos_token");
  const bool flag = has(s, "add_generation_prompt");
  ChatTemplate t;
  if (has(s, "<|start_header_id|>")) {
    if (has(s, "Cutting Knowledge Date")) {
      unknown(origin,
              "a Llama 3.1+ template (date and tools header in the system turn), not "
              "covered");
    }
    t = named("llama3");
    t.always_generation_prompt_ = !flag;  // the first Llama 3 release ignored the flag
  } else if (has(s, "<|im_start|>")) {
    if (has(s, "<|im_sep|>")) unknown(origin, "a ChatML variant with <|im_sep|> (Phi-4)");
    if (has(s, "<think>")) {
      t = named("qwen3");
    } else {
      t = named("chatml");
      t.default_system_ = chatml_default_system(s);
      if (!t.default_system_.empty()) t.name_ = "qwen2";
    }
    t.always_generation_prompt_ = !flag;
  } else if (has(s, "<start_of_turn>")) {
    if (has(s, "first_user_prefix")) {
      t = named("gemma");  // Gemma 3 folds the system message into the first user turn
      t.system_separator_ = gemma_separator(s);
    } else if (has(s, "System role not supported")) {
      t = named("gemma2");
    } else {
      unknown(origin,
              "a Gemma template (<start_of_turn>) whose system-message handling is not "
              "one of Gemma's published ones");
    }
    t.always_generation_prompt_ = !flag;
  } else if (has(s, "<|end|>") && (has(s, "<|user|>") || has(s, "'<|' + message['role']"))) {
    t = named("phi3");
    if (!flag) {
      t.name_ = "phi3-mini-v0";  // the first release: no system turn, no flag
      t.system_ = SystemPolicy::kDropped;
    }
    t.eos_without_generation_prompt_ = has(s, "{% else %}{{ eos_token }}");
    t.skip_empty_system_ = has(s, "message['role'] == 'system' and message['content']");
  } else if (has(s, "[INST]")) {
    if (has(s, "[SYSTEM_PROMPT]")) {
      unknown(origin, "a Mistral v7 template ([SYSTEM_PROMPT]), not covered");
    } else if (has(s, "<<SYS>>") && has(s, "bos_token + '[INST] '")) {
      t = named("llama2");
    } else if (has(s, "' [INST] '")) {
      t = named("mistral-v1");
    } else if (has(s, "'[INST]' +")) {
      t = named("mistral-v3-tekken");
    } else if (has(s, "' [/INST]'")) {
      t = named("mistral-v0");
    } else if (has(s, "'[/INST]'")) {
      t = named("mistral-v3");
    } else {
      unknown(origin, "an [INST] template whose spacing is not one of Mistral's or Llama 2's");
    }
  } else {
    unknown(origin,
            "chat template not recognised (no marker of Llama 3, ChatML/Qwen, Mistral, "
            "Llama 2, Gemma or Phi-3)");
  }
  t.writes_bos_ = bos;
  return t;
}

}  // namespace pplug
