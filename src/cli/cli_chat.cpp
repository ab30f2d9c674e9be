#include "cli/cli_chat.h"

#include <algorithm>

#include "pplug/chat_template_file.h"

namespace pplug::cli {

ChatTemplate cli_chat_template(const LoadedModel& loaded, const std::string& model_path,
                               const std::string& name, bool thinking) {
  // The tokenizer's file first: its folder holds tokenizer_config.json, or it is the GGUF.
  const std::string tokenizer_path = loaded.tokenizer->path();
  const bool beside_tokenizer = find_chat_template(tokenizer_path).found();
  const std::string where = beside_tokenizer || !name.empty() ? tokenizer_path : model_path;
  return load_chat_template(where, name).with_thinking(thinking);
}

std::vector<ChatMessage> cli_conversation(const std::string& system, const std::string& prompt) {
  std::vector<ChatMessage> messages;
  if (!system.empty()) messages.push_back({"system", system});
  messages.push_back({"user", prompt});
  return messages;
}

bool cut_at_end_of_turn(const ChatTemplate& chat, const Tokenizer& tokenizer,
                        GenerationResult* result) {
  const std::string& eot = chat.end_of_turn();
  if (eot.empty()) return true;
  const int id = tokenizer.piece_to_id(eot);
  if (id < 0 || id == tokenizer.unk_id() || tokenizer.id_to_piece(id) != eot) return true;
  if (id == tokenizer.eos_id()) return true;
  auto& ids = result->generated_ids;
  const auto at = std::find(ids.begin(), ids.end(), id);
  if (at != ids.end()) {
    ids.erase(at, ids.end());
    result->text = tokenizer.decode(ids);
    result->finish_reason = FinishReason::kEos;
  }
  return false;
}

}  // namespace pplug::cli
