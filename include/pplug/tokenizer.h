// SentencePiece tokenizer of a Llama-family model (tokenizer.model). Encoding matches the
// model's own tokenizer exactly (byte fallback, whitespace and newline handling are
// sentencepiece's). Thread-safe for concurrent encode/decode on one instance.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace pplug {

class Tokenizer {
 public:
  // Loads a SentencePiece model file; throws FormatError naming the path when it cannot.
  explicit Tokenizer(const std::string& model_path);
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Token ids of `text`; BOS/EOS are added only when asked.
  std::vector<int> encode(const std::string& text, bool add_bos = false,
                          bool add_eos = false) const;
  // Text of `ids`; control tokens (BOS, EOS) produce no text. Out-of-range ids throw.
  std::string decode(const std::vector<int>& ids) const;

  int vocab_size() const;
  int bos_id() const;  // -1 when the model has none
  int eos_id() const;  // -1 when the model has none
  int unk_id() const;
  int pad_id() const;  // -1 when the model has none
  // The piece string of an id (e.g. "▁time", "<0x0A>"); throws InvalidArgument when out of range.
  std::string id_to_piece(int id) const;
  // The id of a piece, or unk_id() when it is not in the vocabulary.
  int piece_to_id(const std::string& piece) const;
  bool is_byte(int id) const;
  bool is_control(int id) const;
  const std::string& path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pplug
