#include "lamp/unicode.h"
#include "pplug/error.h"
#include "pplug/lamp_prompt.h"

namespace pplug::lamp {

std::vector<int> WhitespaceTokenCounter::encode(const std::string& text) const {
  const auto words = detail::py_split(text);
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
