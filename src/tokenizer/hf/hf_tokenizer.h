// A Hugging Face tokenizer.json tokenizer with the semantics of HF `tokenizers`: added tokens,
// normalizer, pre-tokenizer, BPE or WordPiece model, decoder. Mirrors pplug::Tokenizer's
// methods. Internal for now (not under include/): no third-party type appears here.
//
// Thread safety: every const method may be called concurrently on one instance.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace pplug::hf {

class HfTokenizer {
 public:
  // Loads `path`: a tokenizer.json, or a folder holding one. BOS/EOS/PAD come from
  // tokenizer_config.json beside it, else config.json / generation_config.json, else the
  // post-processor's template. A .gguf path reads a GGUF vocabulary instead (tokenizer.ggml.*):
  // model type "gpt2" with llama.cpp's pre-tokenizer per tokenizer.ggml.pre, or "bert" as the
  // tokenizer.json of a BERT model (WordPiece, lowercasing, accents stripped). Throws
  // FormatError naming the file, the JSON path and the value of whatever is malformed or
  // unsupported.
  static HfTokenizer load(const std::string& path);
  // Parses tokenizer.json text; `name` stands for the file in error messages. Only the
  // post-processor template gives BOS/EOS here.
  static HfTokenizer from_json(const std::string& json_text,
                               const std::string& name = "tokenizer.json");

  HfTokenizer(HfTokenizer&&) noexcept;
  HfTokenizer& operator=(HfTokenizer&&) noexcept;
  ~HfTokenizer();

  // Token ids of `text` (HF's encode with add_special_tokens=False: added tokens, special or
  // not, written in the text are recognised), with BOS/EOS only when asked (and defined).
  // Invalid UTF-8 in `text` is read as U+FFFD.
  std::vector<int> encode(const std::string& text, bool add_bos = false,
                          bool add_eos = false) const;
  // Text of `ids`: runs of model tokens through the decoder, added tokens verbatim (as HF
  // tokenizers); special added tokens give no text unless `skip_special` is false. Out-of-range ids
  // throw InvalidArgument. No clean-up of spaces (HF's clean_up_tokenization_spaces) is applied.
  std::string decode(const std::vector<int>& ids, bool skip_special = true) const;

  int vocab_size() const;  // highest id + 1, added tokens included
  int bos_id() const;      // -1 when none
  int eos_id() const;      // -1 when none
  int unk_id() const;      // -1 when the model has no unknown token
  int pad_id() const;      // -1 when none
  // Whether the files say BOS is prepended by default (post-processor template, or
  // tokenizer_config.json add_bos_token); encode() itself adds it only when asked.
  bool adds_bos_by_default() const;
  // The token string of an id (raw vocabulary form, e.g. "Ġhello"); InvalidArgument when out
  // of range; "" for an id no token uses.
  std::string id_to_piece(int id) const;
  // The id of a token string (added tokens included), or unk_id() when absent.
  int piece_to_id(const std::string& piece) const;
  // Whether `id` is an added token marked special.
  bool is_special(int id) const;
  const std::string& path() const;

  struct Impl;

 private:
  explicit HfTokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pplug::hf
