// Chat templates: family detection (ChatTemplate::detect, ChatTemplate::named) and rendering.
// Input: a flags byte, then the Jinja text up to the first NUL, then the conversation: messages
// separated by 0x1e, each "role 0x1f content". Flags: 1 add_generation_prompt, 2 thinking off,
// 4 the text after the flags is a tokenizer_config.json read by load_chat_template instead.
// Detection and rendering either throw pplug::Error subclasses or render.
#include <vector>

#include "fuzz_support.h"
#include "pplug/chat_template.h"
#include "pplug/chat_template_file.h"

using namespace pplug;

namespace {

std::vector<ChatMessage> conversation(const std::string& text) {
  std::vector<ChatMessage> out;
  size_t start = 0;
  while (start <= text.size() && out.size() < 64) {
    size_t end = text.find('\x1e', start);
    if (end == std::string::npos) end = text.size();
    const std::string m = text.substr(start, end - start);
    const size_t sep = m.find('\x1f');
    if (sep == std::string::npos) {
      out.push_back({"user", m});
    } else {
      out.push_back({m.substr(0, sep), m.substr(sep + 1)});
    }
    start = end + 1;
  }
  return out;
}

void render_all(const ChatTemplate& chat, const std::vector<ChatMessage>& messages, int flags) {
  const ChatTemplate t = (flags & 2) ? chat.with_thinking(false) : chat;
  fuzz::expect_documented([&] { (void)t.render(messages, flags & 1); });
  fuzz::expect_documented([&] { (void)t.hf_text(messages, flags & 1); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::quiet_logs();
  if (size == 0) return 0;
  const int flags = data[0];
  const std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t nul = rest.find('\0');
  const std::string jinja = rest.substr(0, nul);
  const std::vector<ChatMessage> messages =
      conversation(nul == std::string::npos ? "user\x1fHi" : rest.substr(nul + 1));
  if (flags & 4) {
    fuzz::TempFile file("tokenizer_config.json", data + 1, size - 1);
    fuzz::expect_documented([&] {
      const ChatTemplate chat = load_chat_template(file.path());
      render_all(chat, messages, flags);
    });
    return 0;
  }
  fuzz::expect_documented([&] {
    const ChatTemplate chat = ChatTemplate::detect(jinja, "fuzz");
    render_all(chat, messages, flags);
    render_all(chat.with_special_tokens("<bos>", "<eos>"), messages, flags);
  });
  fuzz::expect_documented([&] { render_all(ChatTemplate::named(jinja), messages, flags); });
  return 0;
}
