// Incremental decoding of one generated sequence: turns the growing token list into text
// deltas, holds back incomplete UTF-8 and possible stop-string prefixes, and detects stops.
#pragma once

#include <string>
#include <vector>

#include "pplug/tokenizer.h"

namespace pplug::detail {

class TextStream {
 public:
  // `anchor_id` (>= 0) is decoded in front of the generated ids and its text removed, so that a
  // leading space of the first generated piece survives SentencePiece's decoding.
  TextStream(const Tokenizer& tokenizer, int anchor_id, std::vector<std::string> stop_strings);

  // Re-decodes `generated`; returns the new text that is safe to emit now. Sets stopped() when a
  // stop string appeared (the text is then cut before it).
  std::string update(const std::vector<int>& generated);
  // Everything not yet emitted (call when the sequence ends).
  std::string flush();
  bool stopped() const { return stopped_; }
  // The full text so far (cut before a stop string).
  const std::string& text() const { return text_; }

 private:
  const Tokenizer& tokenizer_;
  int anchor_id_;
  std::string anchor_text_;
  std::vector<std::string> stop_strings_;
  size_t hold_back_ = 0;  // longest stop string minus one
  std::string text_;
  size_t emitted_ = 0;
  bool stopped_ = false;
};

}  // namespace pplug::detail
