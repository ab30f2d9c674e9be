// Chat templates rendered against expected strings written out from the templates' own Jinja
// text: the real Llama 3 and Qwen3 tokenizer_config.json files (../shared/models), and the
// published Mistral, Llama 2, Gemma and Phi-3 templates with the outputs llama.cpp's
// tests/test-chat-template.cpp lists for them.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "pplug/chat_template.h"
#include "pplug/chat_template_file.h"
#include "pplug/error.h"

namespace pplug {
namespace {

const std::string kModels = PPLUG_SHARED_MODELS;

// The conversation of the brief: system + user + assistant + user.
std::vector<ChatMessage> four_turns() {
  return {{"system", "You are a helpful assistant."},
          {"user", "Hello!"},
          {"assistant", "Hi there."},
          {"user", "What is 2+2?"}};
}

// llama.cpp's test conversation (tests/test-chat-template.cpp).
std::vector<ChatMessage> llama_cpp_turns(bool with_system = true) {
  std::vector<ChatMessage> m = {{"user", "Hello"},
                                {"assistant", "Hi there"},
                                {"user", "Who are you"},
                                {"assistant", "   I am an assistant   "},
                                {"user", "Another question"}};
  if (with_system) m.insert(m.begin(), {"system", "You are a helpful assistant"});
  return m;
}

std::string template_of(const std::string& folder) {
  const std::string file = kModels + "/" + folder + "/tokenizer_config.json";
  std::ifstream in(file);
  if (!in) return {};
  return nlohmann::json::parse(in)["chat_template"].get<std::string>();
}

TEST(ChatTemplate, RealLlama3FileIsLlama3) {
  const std::string source = template_of("llama3-tokenizer");
  if (source.empty()) GTEST_SKIP() << "no " << kModels << "/llama3-tokenizer";
  const ChatTemplate t = ChatTemplate::detect(source, "llama3");
  EXPECT_EQ(t.format(), ChatFormat::kLlama3);
  EXPECT_EQ(t.name(), "llama3");
  EXPECT_TRUE(t.writes_bos());
  EXPECT_EQ(t.end_of_turn(), "<|eot_id|>");
  const std::string expected =
      "<|begin_of_text|>"
      "<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant.<|eot_id|>"
      "<|start_header_id|>user<|end_header_id|>\n\nHello!<|eot_id|>"
      "<|start_header_id|>assistant<|end_header_id|>\n\nHi there.<|eot_id|>"
      "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"
      "<|start_header_id|>assistant<|end_header_id|>\n\n";
  EXPECT_EQ(t.hf_text(four_turns(), true), expected);
  // This file is the first Llama 3 release: its assistant header is unconditional.
  EXPECT_EQ(t.hf_text(four_turns(), false), expected);
  // render() starts after the BOS, which the generator or chat_prompt_ids adds as an id.
  EXPECT_EQ(t.render(four_turns()), expected.substr(std::string("<|begin_of_text|>").size()));
}

TEST(ChatTemplate, Llama3TrimsContentAndHonoursTheFlagWhenNamed) {
  const ChatTemplate t = ChatTemplate::named("llama3");
  // Jinja's trim is Python's str.strip(): Unicode spaces too (U+00A0, U+3000).
  const std::vector<ChatMessage> m = {{"user", " \n\xC2\xA0Hi\xE3\x80\x80\t"}};
  EXPECT_EQ(t.render(m, false), "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>");
  EXPECT_EQ(t.render(m, true),
            "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST(ChatTemplate, RealQwen3FileIsChatml) {
  const std::string source = template_of("qwen3-tokenizer");
  if (source.empty()) GTEST_SKIP() << "no " << kModels << "/qwen3-tokenizer";
  const ChatTemplate t = ChatTemplate::detect(source, "qwen3");
  EXPECT_EQ(t.format(), ChatFormat::kChatml);
  EXPECT_EQ(t.name(), "qwen3");
  EXPECT_FALSE(t.writes_bos());
  EXPECT_EQ(t.end_of_turn(), "<|im_end|>");
  const std::string body =
      "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
      "<|im_start|>user\nHello!<|im_end|>\n"
      "<|im_start|>assistant\nHi there.<|im_end|>\n"
      "<|im_start|>user\nWhat is 2+2?<|im_end|>\n";
  EXPECT_EQ(t.hf_text(four_turns(), false), body);
  EXPECT_EQ(t.hf_text(four_turns(), true), body + "<|im_start|>assistant\n");
  EXPECT_EQ(t.with_thinking(false).render(four_turns(), true),
            body + "<|im_start|>assistant\n<think>\n\n</think>\n\n");
}

TEST(ChatTemplate, Qwen3DropsReasoningBeforeTheLastQueryAndKeepsItAfter) {
  const ChatTemplate t = ChatTemplate::named("qwen3");
  const std::vector<ChatMessage> history = {
      {"user", "Q1"}, {"assistant", "<think>\nfirst\n</think>\n\nA1"}, {"user", "Q2"}};
  EXPECT_EQ(t.render(history, false),
            "<|im_start|>user\nQ1<|im_end|>\n<|im_start|>assistant\nA1<|im_end|>\n"
            "<|im_start|>user\nQ2<|im_end|>\n");
  // After the last user message the reasoning stays, and a final reply gets an (empty) block.
  EXPECT_EQ(t.render({{"user", "Q"}, {"assistant", "<think>\nr\n</think>\n\nA"}}, false),
            "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n<think>\nr\n</think>\n\nA"
            "<|im_end|>\n");
  EXPECT_EQ(t.render({{"user", "Q"}, {"assistant", "A"}}, false),
            "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nA"
            "<|im_end|>\n");
}

TEST(ChatTemplate, ChatmlAndQwen2DefaultSystem) {
  // teknium/OpenHermes-2.5-Mistral-7B (llama.cpp's expected output).
  const ChatTemplate plain_chatml = ChatTemplate::detect(
      "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
      "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ "
      "'<|im_start|>assistant\\n' }}{% endif %}");
  EXPECT_EQ(plain_chatml.name(), "chatml");
  EXPECT_EQ(plain_chatml.render(llama_cpp_turns()),
            "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello"
            "<|im_end|>\n<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are "
            "you<|im_end|>\n<|im_start|>assistant\n   I am an assistant   <|im_end|>\n"
            "<|im_start|>user\nAnother question<|im_end|>\n<|im_start|>assistant\n");
  // Qwen2-7B-Instruct: a default system turn when the conversation has none.
  const ChatTemplate qwen2 = ChatTemplate::detect(
      "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ "
      "'<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}{{'<|im_"
      "start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% "
      "endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}");
  EXPECT_EQ(qwen2.name(), "qwen2");
  EXPECT_EQ(qwen2.render({{"user", "Hi"}}),
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi"
            "<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(qwen2.render({{"system", "S"}, {"user", "Hi"}}, false),
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n");
}

TEST(ChatTemplate, MistralVariants) {
  // mistralai 'v1' (Mistral-7B-Instruct-v0.2 with a system prompt).
  const ChatTemplate v1 = ChatTemplate::detect(
      "{%- if messages[0]['role'] == 'system' %}\n    {%- set system_message = "
      "messages[0]['content'] %}\n    {%- set loop_messages = messages[1:] %}\n{%- else %}\n    "
      "{%- set loop_messages = messages %}\n{%- endif %}\n\n{{- bos_token }}\n{%- for message in "
      "loop_messages %}\n    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}\n   "
      "     {{- raise_exception('After the optional system message, conversation roles must "
      "alternate user/assistant/user/assistant/...') }}\n    {%- endif %}\n    {%- if "
      "message['role'] == 'user' %}\n        {%- if loop.first and system_message is defined "
      "%}\n            {{- ' [INST] ' + system_message + '\\n\\n' + message['content'] + ' "
      "[/INST]' }}\n        {%- else %}\n            {{- ' [INST] ' + message['content'] + ' "
      "[/INST]' }}\n        {%- endif %}\n    {%- elif message['role'] == 'assistant' %}\n      "
      "  {{- ' ' + message['content'] + eos_token}}\n    {%- else %}\n        {{- "
      "raise_exception('Only user and assistant roles are supported, with the exception of an "
      "initial optional system message!') }}\n    {%- endif %}\n{%- endfor %}\n");
  EXPECT_EQ(v1.name(), "mistral-v1");
  EXPECT_TRUE(v1.writes_bos());
  EXPECT_EQ(v1.render(llama_cpp_turns()),
            " [INST] You are a helpful assistant\n\nHello [/INST] Hi there</s> [INST] Who are you "
            "[/INST]    I am an assistant   </s> [INST] Another question [/INST]");
  EXPECT_EQ(v1.hf_text(llama_cpp_turns()).substr(0, 10), "<s> [INST]");

  // mistralai 'v3' (Mistral-7B-Instruct-v0.3, Mistral-Large-2407): the system message goes to
  // the last user turn and replies are trimmed. The template's phrases that matter:
  const ChatTemplate v3 = ChatTemplate::detect(
      "{{- bos_token }}{%- for message in loop_messages %}{%- if message[\"role\"] == \"user\" %}"
      "{%- if loop.last and system_message is defined %}{{- \"[INST] \" + system_message + "
      "\"\\n\\n\" + message[\"content\"] + \"[/INST]\" }}{%- else %}{{- \"[INST] \" + "
      "message[\"content\"] + \"[/INST]\" }}{%- endif %}{%- elif message[\"role\"] == "
      "\"assistant\" %}{{- \" \" + message[\"content\"]|trim + eos_token}}{%- endif %}"
      "{%- endfor %}");
  EXPECT_EQ(v3.name(), "mistral-v3");
  EXPECT_EQ(v3.render(llama_cpp_turns()),
            "[INST] Hello[/INST] Hi there</s>[INST] Who are you[/INST] I am an assistant</s>"
            "[INST] You are a helpful assistant\n\nAnother question[/INST]");
  EXPECT_EQ(ChatTemplate::named("mistral").name(), "mistral-v3");

  // mistralai 'v3-tekken' (Mistral-Nemo-Instruct-2407).
  const ChatTemplate tekken = ChatTemplate::detect(
      "{{- bos_token }}{%- if loop.last and system_message is defined %}{{- \"[INST]\" + "
      "system_message + \"\\n\\n\" + message[\"content\"] + \"[/INST]\" }}{%- else %}{{- "
      "\"[INST]\" + message[\"content\"] + \"[/INST]\" }}{%- endif %}{{- message[\"content\"] + "
      "eos_token}}");
  EXPECT_EQ(tekken.name(), "mistral-v3-tekken");
  EXPECT_EQ(tekken.render(llama_cpp_turns()),
            "[INST]Hello[/INST]Hi there</s>[INST]Who are you[/INST]   I am an assistant   </s>"
            "[INST]You are a helpful assistant\n\nAnother question[/INST]");

  // The first Mistral-7B-Instruct template: no system role.
  const ChatTemplate v0 = ChatTemplate::detect(
      "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != "
      "(loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate "
      "user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ "
      "'[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' "
      "%}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and "
      "assistant roles are supported!') }}{% endif %}{% endfor %}");
  EXPECT_EQ(v0.name(), "mistral-v0");
  EXPECT_EQ(v0.render(llama_cpp_turns(false)),
            "[INST] Hello [/INST]Hi there</s>[INST] Who are you [/INST]   I am an assistant   "
            "</s>[INST] Another question [/INST]");
  EXPECT_THROW(v0.render(llama_cpp_turns()), InvalidArgument);
  // Every [INST] template raises when roles do not alternate.
  EXPECT_THROW(v1.render({{"user", "a"}, {"user", "b"}}), InvalidArgument);
  EXPECT_THROW(v3.render({{"assistant", "a"}}), InvalidArgument);
}

TEST(ChatTemplate, Llama2) {
  // meta-llama/Llama-2-7b-chat-hf: BOS before every user turn, <<SYS>> in the first.
  const ChatTemplate t = ChatTemplate::detect(
      "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set "
      "system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% "
      "set system_message = false %}{% endif %}{% for message in loop_messages %}{% if "
      "(message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation "
      "roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 "
      "== 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + "
      "'\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] "
      "%}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + "
      "content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + "
      "content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}");
  EXPECT_EQ(t.format(), ChatFormat::kLlama2);
  EXPECT_EQ(t.hf_text(llama_cpp_turns()),
            "<s>[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST] Hi there "
            "</s><s>[INST] Who are you [/INST] I am an assistant </s><s>[INST] Another question "
            "[/INST]");
}

TEST(ChatTemplate, Gemma) {
  // google/gemma-2-9b-it: no system role.
  const ChatTemplate gemma2 = ChatTemplate::detect(
      "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role "
      "not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == "
      "'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must "
      "alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == "
      "'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif "
      "%}{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}"
      "{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}");
  EXPECT_EQ(gemma2.name(), "gemma2");
  EXPECT_EQ(gemma2.system_policy(), ChatTemplate::SystemPolicy::kRefused);
  const std::string turns =
      "<start_of_turn>user\nHello<end_of_turn>\n<start_of_turn>model\nHi there<end_of_turn>\n"
      "<start_of_turn>user\nWho are you<end_of_turn>\n<start_of_turn>model\nI am an assistant"
      "<end_of_turn>\n<start_of_turn>user\nAnother question<end_of_turn>\n";
  EXPECT_EQ(gemma2.hf_text(llama_cpp_turns(false)), "<bos>" + turns + "<start_of_turn>model\n");
  EXPECT_EQ(gemma2.render(llama_cpp_turns(false), false), turns);
  EXPECT_THROW(gemma2.render(llama_cpp_turns()), InvalidArgument);

  // google/gemma-3-*-it: the system text and a blank line open the first user turn.
  const ChatTemplate gemma3 = ChatTemplate::detect(
      "{{ bos_token }}\n{%- if messages[0]['role'] == 'system' -%}\n    {%- if "
      "messages[0]['content'] is string -%}\n        {%- set first_user_prefix = "
      "messages[0]['content'] + '\\n\\n' -%}\n    {%- else -%}\n        {%- set "
      "first_user_prefix = messages[0]['content'][0]['text'] + '\\n\\n' -%}\n    {%- endif -%}\n"
      "    {%- set loop_messages = messages[1:] -%}\n{%- else -%}\n    {%- set first_user_prefix "
      "= \"\" -%}\n    {%- set loop_messages = messages -%}\n{%- endif -%}\n{%- for message in "
      "loop_messages -%}\n    {{ '<start_of_turn>' + role + '\\n' + (first_user_prefix if "
      "loop.first else \"\") }}\n    {%- if message['content'] is string -%}\n        {{ "
      "message['content'] | trim }}\n{%- endfor -%}\n{%- if add_generation_prompt -%}\n    "
      "{{'<start_of_turn>model\\n'}}\n{%- endif -%}\n");
  EXPECT_EQ(gemma3.name(), "gemma");
  EXPECT_EQ(gemma3.render(llama_cpp_turns()),
            "<start_of_turn>user\nYou are a helpful assistant\n\nHello<end_of_turn>\n"
            "<start_of_turn>model\nHi there<end_of_turn>\n<start_of_turn>user\nWho are you"
            "<end_of_turn>\n<start_of_turn>model\nI am an assistant<end_of_turn>\n"
            "<start_of_turn>user\nAnother question<end_of_turn>\n<start_of_turn>model\n");
}

TEST(ChatTemplate, Phi3Variants) {
  // Phi-3-small (llama.cpp's expected output; BOS written first).
  const ChatTemplate small = ChatTemplate::detect(
      "{{ bos_token }}{% for message in messages %}{{'<|' + message['role'] + '|>' + '\\n' + "
      "message['content'] + '<|end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ "
      "'<|assistant|>\\n' }}{% else %}{{ eos_token }}{% endif %}");
  EXPECT_EQ(small.format(), ChatFormat::kPhi3);
  EXPECT_TRUE(small.writes_bos());
  const std::string turns =
      "<|system|>\nYou are a helpful assistant<|end|>\n<|user|>\nHello<|end|>\n<|assistant|>\n"
      "Hi there<|end|>\n<|user|>\nWho are you<|end|>\n<|assistant|>\n   I am an assistant   "
      "<|end|>\n<|user|>\nAnother question<|end|>\n";
  EXPECT_EQ(small.render(llama_cpp_turns()), turns + "<|assistant|>\n");
  EXPECT_EQ(small.render(llama_cpp_turns(), false), turns + "<|endoftext|>");

  // Phi-3.5-mini-instruct: no BOS, an empty system message is left out.
  const ChatTemplate phi35 = ChatTemplate::detect(
      "{% for message in messages %}{% if message['role'] == 'system' and message['content'] "
      "%}{{'<|system|>\\n' + message['content'] + '<|end|>\\n'}}{% elif message['role'] == "
      "'user' %}{{'<|user|>\\n' + message['content'] + '<|end|>\\n'}}{% elif message['role'] "
      "== 'assistant' %}{{'<|assistant|>\\n' + message['content'] + '<|end|>\\n'}}{% endif %}{% "
      "endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% else %}{{ eos_token "
      "}}{% endif %}");
  EXPECT_FALSE(phi35.writes_bos());
  EXPECT_EQ(phi35.render({{"system", ""}, {"user", "Hi"}}), "<|user|>\nHi<|end|>\n<|assistant|>\n");

  // The first Phi-3-mini template: system messages dropped, the header after every user turn.
  const ChatTemplate mini_v0 = ChatTemplate::detect(
      "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') %}{{'<|user"
      "|>' + '\\n' + message['content'] + '<|end|>' + '\\n' + '<|assistant|>' + '\\n'}}{% elif "
      "(message['role'] == 'assistant') %}{{message['content'] + '<|end|>' + '\\n'}}{% endif %}"
      "{% endfor %}");
  EXPECT_EQ(mini_v0.system_policy(), ChatTemplate::SystemPolicy::kDropped);
  EXPECT_EQ(mini_v0.render(llama_cpp_turns()),
            "<|user|>\nHello<|end|>\n<|assistant|>\nHi there<|end|>\n<|user|>\nWho are you"
            "<|end|>\n<|assistant|>\n   I am an assistant   <|end|>\n<|user|>\nAnother question"
            "<|end|>\n<|assistant|>\n");
}

TEST(ChatTemplate, PlainFallback) {
  const ChatTemplate t = ChatTemplate::named("plain");
  EXPECT_EQ(t.format(), ChatFormat::kPlain);
  EXPECT_TRUE(t.writes_bos());
  EXPECT_EQ(t.render(four_turns()),
            "You are a helpful assistant.\n\nUser: Hello!\nAssistant: Hi there.\nUser: What is "
            "2+2?\nAssistant:");
  EXPECT_EQ(ChatTemplate().name(), "plain");
}

TEST(ChatTemplate, Errors) {
  // An unknown template names its origin and the way out.
  try {
    ChatTemplate::detect("{{ messages }}", "/m/tokenizer_config.json: chat_template");
    FAIL() << "no error";
  } catch (const FormatError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("/m/tokenizer_config.json"), std::string::npos) << what;
    EXPECT_NE(what.find("--chat-template"), std::string::npos) << what;
  }
  // Recognised families in versions not covered are errors too, not guesses.
  EXPECT_THROW(ChatTemplate::detect("[SYSTEM_PROMPT] [INST]"), FormatError);
  EXPECT_THROW(ChatTemplate::detect("<|start_header_id|>Cutting Knowledge Date"), FormatError);
  EXPECT_THROW(ChatTemplate::detect("<|im_start|>system<|im_sep|>"), FormatError);
  EXPECT_THROW(ChatTemplate::detect("<start_of_turn>system"), FormatError);
  EXPECT_THROW(ChatTemplate::named("vicuna"), InvalidArgument);
  const ChatTemplate t = ChatTemplate::named("chatml");
  EXPECT_THROW(t.render({}), InvalidArgument);
  EXPECT_THROW(t.render({{"tool", "x"}}), InvalidArgument);
  EXPECT_THROW(ChatTemplate::named("gemma2").render({{"system", "s"}, {"user", "u"}}),
               InvalidArgument);
  // Every name round-trips.
  for (const auto& name : ChatTemplate::names()) {
    EXPECT_NO_THROW(ChatTemplate::named(name).render({{"user", "u"}})) << name;
  }
}

TEST(ChatTemplate, SpecialTokensComeFromTheTokenizer) {
  const ChatTemplate t = ChatTemplate::named("mistral-v1").with_special_tokens("<B>", "<E>");
  EXPECT_EQ(t.hf_text({{"user", "a"}, {"assistant", "b"}}), "<B> [INST] a [/INST] b<E>");
  EXPECT_EQ(t.end_of_turn(), "<E>");
  // Empty strings keep the family's defaults.
  EXPECT_EQ(ChatTemplate::named("llama3").with_special_tokens("", "").bos_token(),
            "<|begin_of_text|>");
}

}  // namespace
}  // namespace pplug
