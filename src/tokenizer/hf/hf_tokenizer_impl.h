// The parts of an HfTokenizer, shared by the loaders (tokenizer.json, GGUF) and the facade.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "tokenizer/hf/added_tokens.h"
#include "tokenizer/hf/decoder.h"
#include "tokenizer/hf/hf_tokenizer.h"
#include "tokenizer/hf/model.h"
#include "tokenizer/hf/normalizer.h"
#include "tokenizer/hf/pre_tokenizer.h"

namespace pplug::hf {

struct HfTokenizer::Impl {
  std::string path;
  std::unique_ptr<Normalizer> normalizer;       // null: none
  std::unique_ptr<PreTokenizer> pre_tokenizer;  // null: the whole text is one pre-token
  std::unique_ptr<Model> model;
  std::unique_ptr<Decoder> decoder;    // null: tokens joined with spaces
  AddedTokenMatcher raw_added;         // added tokens with normalized=false
  AddedTokenMatcher normalized_added;  // the others, matched after normalization
  std::vector<std::string> pieces;     // id -> token string ("" for unused ids)
  std::vector<char> special;           // id -> special added token
  std::vector<char> added;             // id -> added token (decoded verbatim, not by the decoder)
  std::unordered_map<std::string, int> added_ids;  // added token content -> id
  std::vector<int> template_prefix;  // ids the post-processor puts before a single sequence
  std::vector<int> template_suffix;  // ... and after it
  bool add_bos_default = false;
  int bos = -1;
  int eos = -1;
  int unk = -1;
  int pad = -1;

  int lookup(const std::string& piece) const;  // -1 when absent
};

// The tokenizer of parsed tokenizer.json `json` (`file` names it in errors); BOS/EOS/PAD only
// from the post-processor template until resolve_special_ids runs.
std::unique_ptr<HfTokenizer::Impl> parse_tokenizer_json(const Json& json, const std::string& file);
// Fills pieces/special/added_ids/matchers from the model vocabulary and `added`. Throws
// FormatError (prefixed with `where`) on duplicate or out-of-range ids.
void finish_vocabulary(HfTokenizer::Impl& impl, std::vector<AddedToken> added,
                       const std::string& where);
// Sets bos/eos/pad from the JSON files beside `tokenizer_json_path` (tokenizer_config.json,
// config.json, generation_config.json), then from the template.
void resolve_special_ids(HfTokenizer::Impl& impl, const std::string& folder);

}  // namespace pplug::hf
