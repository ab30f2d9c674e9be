// The tokenizer of an LLM, read from whichever file the model ships (docs/formats.md,
// "Tokenizers"):
//  - a SentencePiece model (`tokenizer.model`, any `.model`): encoding is sentencepiece's own
//    (byte fallback, whitespace and newline handling);
//  - a Hugging Face `tokenizer.json`, or a folder holding one: encoding is that of HF
//    `tokenizers` with add_special_tokens=False; BOS/EOS/PAD come from tokenizer_config.json
//    beside it (else config.json / generation_config.json, else the post-processor);
//  - a GGUF file's vocabulary (`.gguf`, tokenizer.ggml.model "llama" or "t5" for SentencePiece,
//    "gpt2" for byte-level BPE, "bert" for WordPiece with BOS = [CLS] and EOS = [SEP]), encoded
//    as llama.cpp does.
// A folder holding both tokenizer.json and tokenizer.model reads tokenizer.json, as HF
// transformers does. Thread-safe for concurrent use of the const methods on one instance.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace pplug {

class Tokenizer {
 public:
  // Loads `model_path` (kinds above: by extension, else by the file's first bytes); throws
  // FormatError naming the path when it is missing, of no known kind, or malformed.
  explicit Tokenizer(const std::string& model_path);
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Token ids of `text`; BOS/EOS are added only when asked.
  std::vector<int> encode(const std::string& text, bool add_bos = false,
                          bool add_eos = false) const;
  // Text of `ids`; control tokens (BOS, EOS, and a tokenizer.json's special added tokens)
  // produce no text. Out-of-range ids throw InvalidArgument.
  std::string decode(const std::vector<int>& ids) const;

  int vocab_size() const;
  int bos_id() const;  // -1 when the model has none
  int eos_id() const;  // -1 when the model has none
  int unk_id() const;  // -1 when the model has none (possible with tokenizer.json)
  int pad_id() const;  // -1 when the model has none
  // The piece string of an id as the file stores it (e.g. "▁time", "<0x0A>", byte-level "Ġtime");
  // throws InvalidArgument when out of range.
  std::string id_to_piece(int id) const;
  // The id of a piece, or unk_id() when it is not in the vocabulary (so -1 when there is no
  // unknown token).
  int piece_to_id(const std::string& piece) const;
  // Whether `id` is a byte-fallback piece ("<0xNN>").
  bool is_byte(int id) const;
  // Whether `id` is a control token: SentencePiece's control pieces, a tokenizer.json's special
  // added tokens, a GGUF vocabulary's control tokens.
  bool is_control(int id) const;
  // The file read: `model_path`, or for a folder the tokenizer.json / tokenizer.model in it.
  const std::string& path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pplug
