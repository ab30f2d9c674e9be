// A conversation as the token ids an instruct model reads: the chat template's text encoded by
// the model's tokenizer, with the BOS id first exactly when the template writes one. Feed them
// to Generator::generate_ids (which adds nothing); Generator::generate(text) would put [BOS]
// before any text, also for templates that write none (ChatML/Qwen).
#pragma once

#include <vector>

#include "pplug/chat_template.h"
#include "pplug/tokenizer.h"

namespace pplug {

// [BOS] (when template.writes_bos() and the tokenizer has one) + encode(template.render(...)).
// The template's special strings become single ids with tokenizer.json and GGUF vocabularies,
// which split added tokens out of the text; a SentencePiece .model encodes them as plain text.
std::vector<int> chat_prompt_ids(const ChatTemplate& chat, const Tokenizer& tokenizer,
                                 const std::vector<ChatMessage>& messages,
                                 bool add_generation_prompt = true);

}  // namespace pplug
