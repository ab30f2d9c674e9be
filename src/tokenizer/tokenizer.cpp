// pplug::Tokenizer: picks the backend from the file it is given (see the header and
// docs/formats.md, "Tokenizers") and forwards every call to it.
#include "pplug/tokenizer.h"

#include <filesystem>
#include <fstream>

#include "format/gguf_metadata.h"
#include "pplug/error.h"
#include "tokenizer/gguf_spm_vocab.h"
#include "tokenizer/tokenizer_backend.h"

namespace pplug {
namespace {

namespace fs = std::filesystem;

constexpr const char* kExpected =
    "a SentencePiece .model, a tokenizer.json or a folder holding one, or a GGUF vocabulary "
    "(.gguf)";

enum class Kind { kSentencePiece, kHfJson, kGguf, kUnknown };

// The kind of a file from its extension, else from its first bytes.
Kind file_kind(const fs::path& file) {
  const std::string ext = file.extension().string();
  if (ext == ".model") return Kind::kSentencePiece;
  if (ext == ".json") return Kind::kHfJson;
  if (ext == ".gguf") return Kind::kGguf;
  std::ifstream in(file, std::ios::binary);
  char head[64] = {0};
  in.read(head, sizeof(head));
  const std::streamsize n = in.gcount();
  if (n >= 4 && std::string(head, 4) == "GGUF") return Kind::kGguf;
  for (std::streamsize i = 0; i < n; ++i) {
    const char c = head[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    if (c == '{') return Kind::kHfJson;
    break;
  }
  return Kind::kUnknown;
}

struct Resolved {
  std::string file;  // what the backend reads
  Kind kind = Kind::kUnknown;
};

// A folder holding both tokenizer.json and tokenizer.model reads tokenizer.json, as Hugging Face
// transformers' AutoTokenizer does (the "fast" tokenizer).
Resolved resolve(const std::string& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (!fs::exists(status)) {
    throw FormatError(path + ": no such file or folder (expected " + kExpected + ")");
  }
  if (fs::is_directory(status)) {
    const fs::path dir(path);
    if (fs::is_regular_file(dir / "tokenizer.json", ec)) {
      return {(dir / "tokenizer.json").string(), Kind::kHfJson};
    }
    if (fs::is_regular_file(dir / "tokenizer.model", ec)) {
      return {(dir / "tokenizer.model").string(), Kind::kSentencePiece};
    }
    throw FormatError(path + ": folder holds neither tokenizer.json nor tokenizer.model");
  }
  return {path, file_kind(path)};
}

std::unique_ptr<detail::TokenizerBackend> make_backend(const Resolved& r) {
  switch (r.kind) {
    case Kind::kSentencePiece:
      return detail::make_spm_backend(r.file);
    case Kind::kHfJson:
      return detail::make_hf_backend(r.file);
    case Kind::kGguf: {
      const auto meta = detail::read_gguf_metadata(r.file);
      if (detail::is_gguf_spm_vocab(meta)) return detail::make_spm_backend_from_gguf(meta);
      return detail::make_hf_backend(r.file);
    }
    case Kind::kUnknown:
      break;
  }
  // No telling extension or header: SentencePiece's protobuf has neither, so try it last.
  try {
    return detail::make_spm_backend(r.file);
  } catch (const FormatError& e) {
    throw FormatError(r.file + ": not a tokenizer file pplug reads (expected " + kExpected +
                      "); read as SentencePiece: " + e.what());
  }
}

}  // namespace

struct Tokenizer::Impl {
  std::string path;
  std::unique_ptr<detail::TokenizerBackend> backend;
};

Tokenizer::Tokenizer(const std::string& model_path) : impl_(std::make_unique<Impl>()) {
  const Resolved r = resolve(model_path);
  impl_->backend = make_backend(r);
  impl_->path = r.file;
}

Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

std::vector<int> Tokenizer::encode(const std::string& text, bool add_bos, bool add_eos) const {
  return impl_->backend->encode(text, add_bos, add_eos);
}

std::string Tokenizer::decode(const std::vector<int>& ids) const {
  return impl_->backend->decode(ids);
}

int Tokenizer::vocab_size() const { return impl_->backend->vocab_size(); }
int Tokenizer::bos_id() const { return impl_->backend->bos_id(); }
int Tokenizer::eos_id() const { return impl_->backend->eos_id(); }
int Tokenizer::unk_id() const { return impl_->backend->unk_id(); }
int Tokenizer::pad_id() const { return impl_->backend->pad_id(); }
const std::string& Tokenizer::path() const { return impl_->path; }

std::string Tokenizer::id_to_piece(int id) const { return impl_->backend->id_to_piece(id); }

int Tokenizer::piece_to_id(const std::string& piece) const {
  return impl_->backend->piece_to_id(piece);
}

bool Tokenizer::is_byte(int id) const { return impl_->backend->is_byte(id); }
bool Tokenizer::is_control(int id) const { return impl_->backend->is_control(id); }

}  // namespace pplug
