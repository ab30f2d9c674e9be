// The engines behind pplug::Tokenizer: one implementation per tokenizer file kind, chosen once
// when the facade is built (tokenizer.cpp). Every const method may be called concurrently.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace pplug::detail {

struct GgufMetadata;

class TokenizerBackend {
 public:
  virtual ~TokenizerBackend() = default;

  // See pplug::Tokenizer for the contract of each method.
  virtual std::vector<int> encode(const std::string& text, bool add_bos, bool add_eos) const = 0;
  virtual std::string decode(const std::vector<int>& ids) const = 0;
  virtual int vocab_size() const = 0;
  virtual int bos_id() const = 0;
  virtual int eos_id() const = 0;
  virtual int unk_id() const = 0;
  virtual int pad_id() const = 0;
  virtual std::string id_to_piece(int id) const = 0;
  virtual int piece_to_id(const std::string& piece) const = 0;
  virtual bool is_byte(int id) const = 0;
  virtual bool is_control(int id) const = 0;
};

// A SentencePiece model file, through the dlopen'ed shim (spm_backend.cpp). Throws FormatError
// naming `path` when the file is not one.
std::unique_ptr<TokenizerBackend> make_spm_backend(const std::string& path);
// A GGUF file's SentencePiece vocabulary (tokenizer.ggml.model "llama" or "t5"), run by
// sentencepiece itself (tokenizer/gguf_spm_vocab.h). Throws FormatError naming the file.
std::unique_ptr<TokenizerBackend> make_spm_backend_from_gguf(const GgufMetadata& meta);
// A tokenizer.json file or a GGUF vocabulary (.gguf, model type "gpt2" or "bert"), through
// pplug::hf::HfTokenizer (hf_backend.cpp). Throws FormatError naming the file.
std::unique_ptr<TokenizerBackend> make_hf_backend(const std::string& path);

}  // namespace pplug::detail
