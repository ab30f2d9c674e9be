#include "generation/text_stream.h"

#include <algorithm>

namespace pplug::detail {
namespace {

// Length of the longest prefix of s[0, n) that ends on a UTF-8 character boundary.
size_t utf8_boundary(const std::string& s, size_t n) {
  while (n > 0 && n < s.size() && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return n;
}

bool ends_with_replacement_char(const std::string& s) {
  // U+FFFD is what SentencePiece decodes an incomplete byte-fallback sequence to.
  return s.size() >= 3 && s.compare(s.size() - 3, 3, "\xEF\xBF\xBD") == 0;
}

}  // namespace

TextStream::TextStream(const Tokenizer& tokenizer, int anchor_id,
                       std::vector<std::string> stop_strings)
    : tokenizer_(tokenizer), anchor_id_(anchor_id), stop_strings_(std::move(stop_strings)) {
  stop_strings_.erase(std::remove(stop_strings_.begin(), stop_strings_.end(), std::string()),
                      stop_strings_.end());
  for (const auto& s : stop_strings_) hold_back_ = std::max(hold_back_, s.size() - 1);
  if (anchor_id_ >= 0) anchor_text_ = tokenizer_.decode({anchor_id_});
}

std::string TextStream::update(const std::vector<int>& generated) {
  if (stopped_) return "";
  std::string full;
  if (anchor_id_ >= 0) {
    std::vector<int> ids;
    ids.reserve(generated.size() + 1);
    ids.push_back(anchor_id_);
    ids.insert(ids.end(), generated.begin(), generated.end());
    full = tokenizer_.decode(ids);
    if (full.compare(0, anchor_text_.size(), anchor_text_) == 0) {
      full.erase(0, anchor_text_.size());
    }
  } else {
    full = tokenizer_.decode(generated);
  }
  text_ = std::move(full);
  size_t cut = std::string::npos;
  for (const auto& s : stop_strings_) cut = std::min(cut, text_.find(s));
  if (cut != std::string::npos) {
    text_.resize(cut);
    stopped_ = true;
    return flush();
  }
  if (ends_with_replacement_char(text_)) return "";
  size_t safe = text_.size() > hold_back_ ? text_.size() - hold_back_ : 0;
  safe = utf8_boundary(text_, safe);
  if (safe <= emitted_) return "";
  std::string delta = text_.substr(emitted_, safe - emitted_);
  emitted_ = safe;
  return delta;
}

std::string TextStream::flush() {
  if (emitted_ >= text_.size()) return "";
  std::string delta = text_.substr(emitted_);
  emitted_ = text_.size();
  return delta;
}

}  // namespace pplug::detail
