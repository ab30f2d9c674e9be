// Retrieval-augmented prompts of the LaMP baseline: the top-k profile items rendered with the
// per-task template in front of (LaMP-1: inside) the input, under a length budget counted in
// the LLM's tokens (see docs/lamp.md, "Length budget").
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pplug/lamp_data.h"
#include "pplug/lamp_retrieval.h"
#include "pplug/lamp_task.h"

namespace pplug::lamp {

// Counts and truncates text in some tokenizer's units. encode() adds no special tokens; decode()
// of a prefix of encode(text) must give the corresponding prefix of the text.
class TokenCounter {
 public:
  virtual ~TokenCounter() = default;
  virtual std::vector<int> encode(const std::string& text) const = 0;
  virtual std::string decode(const std::vector<int>& ids) const = 0;
};

// One token per whitespace-separated word (Python str.split()); decode joins words with one
// space. Ids are assigned on first sight; thread-safe.
class WhitespaceTokenCounter : public TokenCounter {
 public:
  std::vector<int> encode(const std::string& text) const override;
  std::string decode(const std::vector<int>& ids) const override;

 private:
  mutable std::mutex mutex_;
  mutable std::unordered_map<std::string, int> ids_;
  mutable std::vector<std::string> words_;
};

// The first `max_tokens` tokens of `text`, and whether the text has more. Only a prefix of the
// text is encoded, cut at whitespace and doubled until it yields more than max_tokens + 8
// tokens, so a huge text costs work in proportion to max_tokens, not to its size. The ids equal
// the first ones of counter.encode(text) for tokenizers that do not merge across whitespace
// (SentencePiece, byte-level BPE, WordPiece, words); the 8 spare tokens absorb boundary effects.
struct TokenPrefix {
  std::vector<int> ids;
  bool truncated = false;  // the text has more than max_tokens tokens
};
TokenPrefix encode_prefix(const TokenCounter& counter, std::string_view text, size_t max_tokens);

// Options of the retrieval-augmented prompt.
struct PromptOptions {
  RetrievalMethod method = RetrievalMethod::kBm25;  // how the profile items are chosen
  size_t k = 1;          // items put in the prompt; 0: the input alone (zero-shot)
  int max_length = 256;  // L: token budget of the whole prompt (input included)
};

// The prompt from already chosen items (best first). Budget: B = L - min(len(input),
// int(f * L)) with f = 0.6; per item b = (B - 1 - 2(k-1)) // k; each item's long field gets
// b + carried - len(item template with that field empty) tokens, cut to its first tokens and
// decoded back when longer (untouched otherwise), and the unused tokens carry to the next item.
// When some item's template alone exceeds its budget, f is lowered by 0.1 and the budget
// recomputed (as the LaMP code does); below 0 the input is returned alone. No items: the input.
std::string build_prompt(Task task, std::string_view input,
                         const std::vector<const ProfileItem*>& items, int max_length,
                         const TokenCounter& counter);

// Ranks the question's profile with options.method and builds the prompt from the top k.
std::string make_rag_prompt(Task task, const Question& question, const PromptOptions& options,
                            const TokenCounter& counter);

// One JSON line {"id": ..., "prompt": ...} per question, in file order (the `prompt` verb).
std::string rag_prompts_jsonl(Task task, const std::vector<Question>& questions,
                              const PromptOptions& options, const TokenCounter& counter);

}  // namespace pplug::lamp
