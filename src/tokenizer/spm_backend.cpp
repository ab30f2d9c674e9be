// The SentencePiece backend of pplug::Tokenizer: sentencepiece lives in a separate module
// (libpplug_spm_shim.so) that is dlopen'ed with RTLD_DEEPBIND, because its protobuf clashes
// with libtorch's (docs/design.md).
#include <dlfcn.h>

#include <cstdlib>
#include <mutex>

#include "pplug/error.h"
#include "tokenizer/gguf_spm_vocab.h"
#include "tokenizer/spm_shim_api.h"
#include "tokenizer/tokenizer_backend.h"

namespace pplug::detail {
namespace {

// The shim's entry points, resolved once per process.
struct ShimApi {
  pplug_spm_load_fn load = nullptr;
  pplug_spm_load_serialized_fn load_serialized = nullptr;
  pplug_spm_free_fn free = nullptr;
  pplug_spm_encode_fn encode = nullptr;
  pplug_spm_decode_fn decode = nullptr;
  pplug_spm_piece_size_fn piece_size = nullptr;
  pplug_spm_id_to_piece_fn id_to_piece = nullptr;
  pplug_spm_piece_to_id_fn piece_to_id = nullptr;
  pplug_spm_special_id_fn special_id = nullptr;
  pplug_spm_piece_kind_fn piece_kind = nullptr;
};

std::string this_library_dir() {
  Dl_info info{};
  if (::dladdr(reinterpret_cast<void*>(&this_library_dir), &info) == 0 ||
      info.dli_fname == nullptr) {
    return "";
  }
  std::string path = info.dli_fname;
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

void* open_shim(std::string* tried) {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("PPLUG_SPM_SHIM"); env != nullptr && *env != '\0') {
    candidates.emplace_back(env);
  }
  const std::string dir = this_library_dir();
  if (!dir.empty()) {
    candidates.push_back(dir + "/libpplug_spm_shim.so");
    candidates.push_back(dir + "/../lib/libpplug_spm_shim.so");
  }
  candidates.emplace_back("libpplug_spm_shim.so");
  for (const auto& candidate : candidates) {
    // RTLD_DEEPBIND: the shim and its sentencepiece resolve their own (bundled) protobuf first.
    if (void* handle = ::dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND)) {
      return handle;
    }
    const char* why = ::dlerror();
    *tried += "\n  " + candidate + ": " + (why != nullptr ? why : "not found");
  }
  return nullptr;
}

template <typename Fn>
void resolve(void* lib, const char* name, Fn* fn) {
  *fn = reinterpret_cast<Fn>(::dlsym(lib, name));
  if (*fn == nullptr) {
    throw Error(std::string("libpplug_spm_shim.so lacks the symbol ") + name);
  }
}

const ShimApi& shim() {
  static std::once_flag once;
  static ShimApi api;
  static std::string failure;
  std::call_once(once, [] {
    std::string tried;
    void* lib = open_shim(&tried);
    if (lib == nullptr) {
      failure = "cannot load the SentencePiece shim library; tried:" + tried +
                "\n(set PPLUG_SPM_SHIM to its path)";
      return;
    }
    try {
      resolve(lib, "pplug_spm_load", &api.load);
      resolve(lib, "pplug_spm_load_serialized", &api.load_serialized);
      resolve(lib, "pplug_spm_free", &api.free);
      resolve(lib, "pplug_spm_encode", &api.encode);
      resolve(lib, "pplug_spm_decode", &api.decode);
      resolve(lib, "pplug_spm_piece_size", &api.piece_size);
      resolve(lib, "pplug_spm_id_to_piece", &api.id_to_piece);
      resolve(lib, "pplug_spm_piece_to_id", &api.piece_to_id);
      resolve(lib, "pplug_spm_special_id", &api.special_id);
      resolve(lib, "pplug_spm_piece_kind", &api.piece_kind);
    } catch (const Error& e) {
      failure = e.what();
    }
  });
  if (!failure.empty()) throw Error(failure);
  return api;
}

class SpmBackend final : public TokenizerBackend {
 public:
  // `serialized` empty: the model is the file at `path`; else the ModelProto bytes given, which
  // `path` names in messages.
  SpmBackend(const std::string& path, const std::string& serialized) : api_(&shim()), path_(path) {
    char err[1024] = {0};
    const int status = serialized.empty()
                           ? api_->load(path.c_str(), &handle_, err, sizeof(err))
                           : api_->load_serialized(serialized.data(), serialized.size(), &handle_,
                                                   err, sizeof(err));
    if (status != 0) {
      handle_ = nullptr;
      throw FormatError(path + ": not a SentencePiece model: " + err);
    }
    vocab_size_ = api_->piece_size(handle_);
    bos_ = api_->special_id(handle_, 0);
    eos_ = api_->special_id(handle_, 1);
    unk_ = api_->special_id(handle_, 2);
    pad_ = api_->special_id(handle_, 3);
  }
  ~SpmBackend() override {
    if (handle_ != nullptr) api_->free(handle_);
  }
  SpmBackend(const SpmBackend&) = delete;
  SpmBackend& operator=(const SpmBackend&) = delete;

  std::vector<int> encode(const std::string& text, bool add_bos, bool add_eos) const override {
    int* ids = nullptr;
    size_t n = 0;
    char err[1024] = {0};
    if (api_->encode(handle_, text.data(), text.size(), &ids, &n, err, sizeof(err)) != 0) {
      throw Error(path_ + ": encode failed: " + err);
    }
    std::vector<int> out;
    out.reserve(n + 2);
    if (add_bos && bos_ >= 0) out.push_back(bos_);
    out.insert(out.end(), ids, ids + n);
    std::free(ids);
    if (add_eos && eos_ >= 0) out.push_back(eos_);
    return out;
  }

  std::string decode(const std::vector<int>& ids) const override {
    for (int id : ids) {
      if (id < 0 || id >= vocab_size_) {
        throw InvalidArgument(path_ + ": cannot decode token id " + std::to_string(id) +
                              " (vocabulary size " + std::to_string(vocab_size_) + ")");
      }
    }
    char* text = nullptr;
    size_t len = 0;
    char err[1024] = {0};
    if (api_->decode(handle_, ids.data(), ids.size(), &text, &len, err, sizeof(err)) != 0) {
      throw Error(path_ + ": decode failed: " + err);
    }
    std::string out(text, len);
    std::free(text);
    return out;
  }

  int vocab_size() const override { return vocab_size_; }
  int bos_id() const override { return bos_; }
  int eos_id() const override { return eos_; }
  int unk_id() const override { return unk_; }
  int pad_id() const override { return pad_; }

  std::string id_to_piece(int id) const override {
    char* piece = nullptr;
    size_t len = 0;
    if (api_->id_to_piece(handle_, id, &piece, &len) != 0) {
      throw InvalidArgument(path_ + ": token id " + std::to_string(id) +
                            " out of range (vocabulary size " + std::to_string(vocab_size_) + ")");
    }
    std::string out(piece, len);
    std::free(piece);
    return out;
  }

  int piece_to_id(const std::string& piece) const override {
    return api_->piece_to_id(handle_, piece.data(), piece.size());
  }

  bool is_byte(int id) const override {
    const int kind = api_->piece_kind(handle_, id);
    return kind > 0 && (kind & 4) != 0;
  }

  bool is_control(int id) const override {
    const int kind = api_->piece_kind(handle_, id);
    return kind > 0 && (kind & 1) != 0;
  }

 private:
  const ShimApi* api_;
  std::string path_;
  void* handle_ = nullptr;
  int vocab_size_ = 0;
  int bos_ = -1, eos_ = -1, unk_ = 0, pad_ = -1;
};

}  // namespace

std::unique_ptr<TokenizerBackend> make_spm_backend(const std::string& path) {
  return std::make_unique<SpmBackend>(path, "");
}

std::unique_ptr<TokenizerBackend> make_spm_backend_from_gguf(const GgufMetadata& meta) {
  return std::make_unique<SpmBackend>(meta.path, serialize_spm_model(spm_model_from_gguf(meta)));
}

}  // namespace pplug::detail
