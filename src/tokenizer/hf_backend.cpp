// The Hugging Face backend of pplug::Tokenizer: tokenizer.json and GGUF vocabularies through
// pplug::hf::HfTokenizer, with pplug::Tokenizer's semantics (control tokens decode to nothing,
// byte-fallback pieces are bytes).
#include "pplug/error.h"
#include "tokenizer/hf/hf_tokenizer.h"
#include "tokenizer/tokenizer_backend.h"

namespace pplug::detail {
namespace {

// "<0xNN>" with two upper-case hex digits: a byte-fallback piece (as SentencePiece writes them).
bool is_byte_piece(const std::string& piece) {
  const auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); };
  return piece.size() == 6 && piece.compare(0, 3, "<0x") == 0 && hex(piece[3]) && hex(piece[4]) &&
         piece[5] == '>';
}

class HfBackend final : public TokenizerBackend {
 public:
  explicit HfBackend(hf::HfTokenizer tok) : tok_(std::move(tok)) {}

  std::vector<int> encode(const std::string& text, bool add_bos, bool add_eos) const override {
    return tok_.encode(text, add_bos, add_eos);
  }
  // Special added tokens (BOS, EOS, chat markers) give no text, as SentencePiece's control
  // tokens do.
  std::string decode(const std::vector<int>& ids) const override {
    return tok_.decode(ids, /*skip_special=*/true);
  }
  int vocab_size() const override { return tok_.vocab_size(); }
  int bos_id() const override { return tok_.bos_id(); }
  int eos_id() const override { return tok_.eos_id(); }
  int unk_id() const override { return tok_.unk_id(); }
  int pad_id() const override { return tok_.pad_id(); }
  std::string id_to_piece(int id) const override { return tok_.id_to_piece(id); }
  int piece_to_id(const std::string& piece) const override { return tok_.piece_to_id(piece); }
  bool is_byte(int id) const override {
    return id >= 0 && id < tok_.vocab_size() && !tok_.is_special(id) &&
           is_byte_piece(tok_.id_to_piece(id));
  }
  bool is_control(int id) const override { return tok_.is_special(id); }

 private:
  hf::HfTokenizer tok_;
};

}  // namespace

std::unique_ptr<TokenizerBackend> make_hf_backend(const std::string& path) {
  return std::make_unique<HfBackend>(hf::HfTokenizer::load(path));
}

}  // namespace pplug::detail
