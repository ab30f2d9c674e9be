// tokenizer.json "decoder": ByteLevel, Metaspace, ByteFallback, Fuse, Strip, Replace,
// WordPiece and Sequence, each a step over the list of token strings (HF's decode_chain).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tokenizer/hf/json_util.h"

namespace pplug::hf {

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
};

// The decoder described at `j`; nullptr for a null value.
std::unique_ptr<Decoder> parse_decoder(const JsonAt& j);

}  // namespace pplug::hf
