// tokenizer.json "normalizer": NFC, NFD, NFKC, NFKD, Lowercase, Prepend, Replace, Strip,
// BertNormalizer and Sequence. Applied to the text between added tokens, before
// pre-tokenization.
#pragma once

#include <memory>
#include <string>

#include "tokenizer/hf/json_util.h"

namespace pplug::hf {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // Rewrites valid UTF-8 `text` in place.
  virtual void normalize(std::string& text) const = 0;
};

// The normalizer described at `j`; nullptr for a null value. FormatError for an unknown type
// or a malformed member.
std::unique_ptr<Normalizer> parse_normalizer(const JsonAt& j);

}  // namespace pplug::hf
