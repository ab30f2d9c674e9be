// Finding a model's chat template in its files (docs/chat.md):
//  - a Hugging Face folder: `chat_template.jinja` when present (transformers saves the template
//    there and reads it first), else `tokenizer_config.json`'s "chat_template", a string or a
//    list of {"name", "template"} (the one named "default" is used, as HF does);
//  - a GGUF file: the metadata key `tokenizer.chat_template`.
// A file inside a folder (tokenizer.json, tokenizer.model, tokenizer_config.json) means its folder.
#pragma once

#include <string>

#include "pplug/chat_template.h"

namespace pplug {

struct ChatTemplateSource {
  std::string origin;  // the file (and key) the template was read from; empty = none found
  std::string source;  // the Jinja text
  // The tokenizer's BOS / EOS strings beside it (tokenizer_config.json's bos_token/eos_token, a
  // GGUF's tokens at tokenizer.ggml.bos/eos_token_id); empty when not given.
  std::string bos_token, eos_token;
  std::string searched;  // what was looked at, for a "none found" message
  bool found() const { return !origin.empty(); }
};

// The template of the model at `path`; found() is false when it has none (a base model).
// FormatError when a file that should hold one is malformed (bad JSON, a chat_template of the
// wrong type, a list without a "default" entry, a GGUF key that is not a string).
ChatTemplateSource find_chat_template(const std::string& path);

// The chat format of the model at `path`: ChatTemplate::named(name) when `name` is given, else
// the detected family of its template (FormatError when not recognised); InvalidArgument when no
// name is given and the model has no template. Either way the tokenizer's BOS/EOS strings found
// beside the model replace the family's defaults.
ChatTemplate load_chat_template(const std::string& path, const std::string& name = "");

}  // namespace pplug
