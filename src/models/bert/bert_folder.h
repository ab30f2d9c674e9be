// The files of a Hugging Face BERT folder besides the weights: tokenizer settings and writing a
// complete folder.
#pragma once

#include <string>

#include "models/bert/bert_model.h"

namespace pplug::bert {

// do_lower_case from `dir`/tokenizer_config.json; true when the file or the field is absent.
// Throws FormatError naming the file when it is not JSON or the field is not a boolean.
bool read_do_lower_case(const std::string& dir);

// Writes config.json, model.safetensors, vocab.txt (a copy of `vocab_path`) and
// tokenizer_config.json (do_lower_case) to `dir`, creating it if needed.
void write_bert_folder(const std::string& dir, BertModelImpl& model, const std::string& vocab_path,
                       bool lowercase);

}  // namespace pplug::bert
