// The "pattern" member of Split, Replace (normalizer and decoder): {"String": s} matches s
// literally, {"Regex": r} an Oniguruma regex.
#pragma once

#include <memory>

#include "tokenizer/hf/json_util.h"
#include "tokenizer/hf/regex.h"

namespace pplug::hf {

std::unique_ptr<Regex> parse_pattern(const JsonAt& j);
// Replaces every match of `pattern` in `text` with `content`.
std::string replace_all(const Regex& pattern, const std::string& text, const std::string& content);

}  // namespace pplug::hf
