#include "pplug/chat_prompt.h"

namespace pplug {

std::vector<int> chat_prompt_ids(const ChatTemplate& chat, const Tokenizer& tokenizer,
                                 const std::vector<ChatMessage>& messages,
                                 bool add_generation_prompt) {
  // The BOS goes in as its id, not as text: SentencePiece would encode "<s>" as characters.
  return tokenizer.encode(chat.render(messages, add_generation_prompt),
                          /*add_bos=*/chat.writes_bos());
}

}  // namespace pplug
