#include <algorithm>

#include "pplug/error.h"
#include "pplug/lamp_prompt.h"
#include "text/python_str.h"

namespace pplug::lamp {
namespace {

// A cut of text[0, want) that ends before a whitespace byte (in the second half of the window),
// else at a UTF-8 character boundary.
size_t prefix_cut(std::string_view text, size_t want) {
  for (size_t i = want; i > want / 2; --i) {
    const char c = text[i];
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') return i;
  }
  size_t i = want;
  while (i > 0 && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) --i;
  return i;
}

}  // namespace

TokenPrefix encode_prefix(const TokenCounter& counter, std::string_view text, size_t max_tokens) {
  constexpr size_t kSpare = 8;
  size_t want = std::max<size_t>(256, 8 * (max_tokens + kSpare));
  TokenPrefix out;
  while (true) {
    if (want >= text.size()) {
      out.ids = counter.encode(std::string(text));
      break;
    }
    const size_t cut = prefix_cut(text, want);
    out.ids = counter.encode(std::string(text.substr(0, cut)));
    if (out.ids.size() > max_tokens + kSpare) break;
    want *= 2;
  }
  out.truncated = out.ids.size() > max_tokens;
  if (out.truncated) out.ids.resize(max_tokens);
  return out;
}

std::vector<int> WhitespaceTokenCounter::encode(const std::string& text) const {
  const auto words = pplug::detail::unicode::py_split(text);
  std::vector<int> ids;
  ids.reserve(words.size());
  std::lock_guard<std::mutex> lock(mutex_);
  for (std::string_view w : words) {
    const auto [it, inserted] = ids_.emplace(std::string(w), static_cast<int>(words_.size()));
    if (inserted) words_.emplace_back(w);
    ids.push_back(it->second);
  }
  return ids;
}

std::string WhitespaceTokenCounter::decode(const std::vector<int>& ids) const {
  std::string out;
  std::lock_guard<std::mutex> lock(mutex_);
  for (const int id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= words_.size()) {
      throw InvalidArgument("WhitespaceTokenCounter: unknown token id " + std::to_string(id));
    }
    if (!out.empty()) out += ' ';
    out += words_[static_cast<size_t>(id)];
  }
  return out;
}

}  // namespace pplug::lamp
