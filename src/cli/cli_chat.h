// `pplug generate --chat`: the model's chat template, the conversation of --system/--prompt, and
// the cut of a reply at the template's end-of-turn token.
#pragma once

#include <string>
#include <vector>

#include "pplug/chat_template.h"
#include "pplug/generation.h"
#include "pplug/model_io.h"

namespace pplug::cli {

// `name` when given, else the template found beside the tokenizer (a tokenizer_config.json, a
// GGUF), else beside --model; InvalidArgument when there is none, FormatError when unknown.
ChatTemplate cli_chat_template(const LoadedModel& loaded, const std::string& model_path,
                               const std::string& name, bool thinking);
// An optional system message, then `prompt` as the one user message.
std::vector<ChatMessage> cli_conversation(const std::string& system, const std::string& prompt);
// Generation stops at the tokenizer's EOS; when the template ends a turn with another token
// (Gemma's <end_of_turn>, Phi-3's <|end|>, ...), the reply is cut before the first one. Returns
// false when that token is not the EOS (so a streamed reply may run past it).
bool cut_at_end_of_turn(const ChatTemplate& chat, const Tokenizer& tokenizer,
                        GenerationResult* result);

}  // namespace pplug::cli
