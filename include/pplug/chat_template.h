// Chat templates of instruct models: a conversation rendered as the model's own template does
// it (Hugging Face `apply_chat_template(..., tokenize=False)`), without a Jinja engine. The
// common families are recognised by their markers (docs/chat.md) and rendered by hand-written
// code that reproduces their published templates, variants included:
//   llama3   <|start_header_id|>role<|end_header_id|>\n\n content <|eot_id|>
//   chatml   <|im_start|>role\n content <|im_end|>\n   (Qwen2/2.5/3, OpenHermes, ...)
//   mistral  [INST] user [/INST] assistant</s>          (v0.1, v1, v3, v3-tekken spacings)
//   llama2   [INST] <<SYS>>\n system \n<</SYS>>\n\n user [/INST]
//   gemma    <start_of_turn>user\n content <end_of_turn>\n   (assistant = "model")
//   phi3     <|user|>\n content <|end|>\n
//   plain    a documented fallback for base models that have no template.
// BOS: render() never includes it. pplug's Generator puts [BOS] before a text prompt itself, and
// chat_prompt_ids() (pplug/chat_prompt.h) adds it exactly when the template writes it
// (writes_bos()); hf_text() is HF's string, BOS string included.
#pragma once

#include <string>
#include <vector>

namespace pplug {

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

enum class ChatFormat { kPlain, kLlama3, kChatml, kMistral, kLlama2, kGemma, kPhi3 };

// Immutable after construction; const methods are thread-safe.
class ChatTemplate {
 public:
  // What the template does with a system message.
  enum class SystemPolicy {
    kOwnTurn,    // a turn of its own
    kFirstUser,  // prepended to the first user message (Mistral v1, Llama 2, Gemma 3)
    kLastUser,   // prepended to the last user message (Mistral v3)
    kRefused,    // InvalidArgument, as the template raises (Gemma 1/2, Mistral v0.1)
    kDropped,    // left out silently (the first Phi-3-mini/medium template)
  };

  // The plain format.
  ChatTemplate() = default;

  // The family and variant of a Jinja template, from its markers. `origin` (the file it came
  // from) goes into the error: InvalidArgument when no family is recognised, saying how to name
  // the format explicitly.
  static ChatTemplate detect(const std::string& jinja_source, const std::string& origin = "");
  // An explicit format: one of names(). "mistral" is mistral-v3, "gemma" folds a system message
  // into the first user turn (Gemma 3's template; Gemma 1/2 refuse one). InvalidArgument for
  // other names.
  static ChatTemplate named(const std::string& name);
  static std::vector<std::string> names();

  // The conversation as the template renders it, after the BOS (see above), ending with the
  // assistant header when `add_generation_prompt`. InvalidArgument for an empty conversation, a
  // role other than system/user/assistant, and what the family's template refuses (a system
  // message where it has none, roles that do not alternate user/assistant).
  std::string render(const std::vector<ChatMessage>& messages,
                     bool add_generation_prompt = true) const;
  // HF's apply_chat_template(tokenize=False) string: bos_token() first when writes_bos().
  std::string hf_text(const std::vector<ChatMessage>& messages,
                      bool add_generation_prompt = true) const;

  // A copy whose template writes these BOS / EOS strings (the tokenizer's bos_token and
  // eos_token; empty = keep the family's default).
  ChatTemplate with_special_tokens(const std::string& bos, const std::string& eos) const;
  // Qwen3's enable_thinking=false: the generation prompt gets an empty <think></think> block,
  // so the model answers without reasoning. Other templates ignore it.
  ChatTemplate with_thinking(bool enable) const;

  ChatFormat format() const { return format_; }
  const std::string& name() const { return name_; }  // "llama3", "mistral-v3", ... (see names())
  bool writes_bos() const { return writes_bos_; }
  const std::string& bos_token() const { return bos_; }
  const std::string& eos_token() const { return eos_; }
  // The text that closes an assistant turn ("<|eot_id|>", "<|im_end|>", "<end_of_turn>",
  // "<|end|>", the EOS for Mistral and Llama 2; "" for plain): where a reply ends.
  const std::string& end_of_turn() const { return end_of_turn_; }
  SystemPolicy system_policy() const { return system_; }

 private:
  std::string render_llama3(const std::vector<ChatMessage>& m, bool gen) const;
  std::string render_chatml(const std::vector<ChatMessage>& m, bool gen) const;
  std::string render_inst(const std::vector<ChatMessage>& m) const;  // mistral and llama2
  std::string render_gemma(const std::vector<ChatMessage>& m, bool gen) const;
  std::string render_phi3(const std::vector<ChatMessage>& m, bool gen) const;
  std::string render_plain(const std::vector<ChatMessage>& m, bool gen) const;

  ChatFormat format_ = ChatFormat::kPlain;
  std::string name_ = "plain";
  std::string bos_, eos_, end_of_turn_;
  bool writes_bos_ = false;
  SystemPolicy system_ = SystemPolicy::kOwnTurn;
  // The first Llama 3 and Phi-3-mini templates add the assistant header whatever
  // add_generation_prompt says.
  bool always_generation_prompt_ = false;
  // ChatML: the system turn Qwen2/2.5 write when the conversation has none ("" = none).
  std::string default_system_;
  // ChatML: Qwen3's <think> handling (reasoning dropped from turns before the last user query).
  bool qwen_thinking_ = false;
  bool thinking_ = true;  // Qwen3's enable_thinking
  // Phi-3: EOS after the last turn when there is no generation prompt (Phi-3-small, 3.5).
  bool eos_without_generation_prompt_ = false;
  // Phi-3.5: a system message with empty content is left out.
  bool skip_empty_system_ = false;
  // Gemma 3: what joins a system message to the first user turn ("\n\n"; "\n" in some copies).
  std::string system_separator_ = "\n\n";
  // [INST] families: the strings around a user turn and before an assistant reply.
  std::string inst_open_, inst_close_, reply_prefix_;
  bool trim_reply_ = false;  // Mistral v3 trims the assistant content
};

}  // namespace pplug
