#include "pplug/tokenizer.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>

#include "pplug/error.h"
#include "tokenizer/spm_shim_api.h"

namespace pplug {
namespace {

// The shim's entry points, resolved once per process.
struct ShimApi {
  pplug_spm_load_fn load = nullptr;
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

}  // namespace

struct Tokenizer::Impl {
  const ShimApi* api = nullptr;
  void* handle = nullptr;
  std::string path;
  int vocab_size = 0;
  int bos = -1, eos = -1, unk = 0, pad = -1;

  ~Impl() {
    if (handle != nullptr) api->free(handle);
  }
};

Tokenizer::Tokenizer(const std::string& model_path) : impl_(std::make_unique<Impl>()) {
  impl_->api = &shim();
  impl_->path = model_path;
  char err[1024] = {0};
  if (impl_->api->load(model_path.c_str(), &impl_->handle, err, sizeof(err)) != 0) {
    impl_->handle = nullptr;
    throw FormatError(model_path + ": not a SentencePiece model: " + err);
  }
  impl_->vocab_size = impl_->api->piece_size(impl_->handle);
  impl_->bos = impl_->api->special_id(impl_->handle, 0);
  impl_->eos = impl_->api->special_id(impl_->handle, 1);
  impl_->unk = impl_->api->special_id(impl_->handle, 2);
  impl_->pad = impl_->api->special_id(impl_->handle, 3);
}

Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

std::vector<int> Tokenizer::encode(const std::string& text, bool add_bos, bool add_eos) const {
  int* ids = nullptr;
  size_t n = 0;
  char err[1024] = {0};
  if (impl_->api->encode(impl_->handle, text.data(), text.size(), &ids, &n, err, sizeof(err)) !=
      0) {
    throw Error(impl_->path + ": encode failed: " + err);
  }
  std::vector<int> out;
  out.reserve(n + 2);
  if (add_bos && impl_->bos >= 0) out.push_back(impl_->bos);
  out.insert(out.end(), ids, ids + n);
  std::free(ids);
  if (add_eos && impl_->eos >= 0) out.push_back(impl_->eos);
  return out;
}

std::string Tokenizer::decode(const std::vector<int>& ids) const {
  for (int id : ids) {
    if (id < 0 || id >= impl_->vocab_size) {
      throw InvalidArgument(impl_->path + ": cannot decode token id " + std::to_string(id) +
                            " (vocabulary size " + std::to_string(impl_->vocab_size) + ")");
    }
  }
  char* text = nullptr;
  size_t len = 0;
  char err[1024] = {0};
  if (impl_->api->decode(impl_->handle, ids.data(), ids.size(), &text, &len, err, sizeof(err)) !=
      0) {
    throw Error(impl_->path + ": decode failed: " + err);
  }
  std::string out(text, len);
  std::free(text);
  return out;
}

int Tokenizer::vocab_size() const { return impl_->vocab_size; }
int Tokenizer::bos_id() const { return impl_->bos; }
int Tokenizer::eos_id() const { return impl_->eos; }
int Tokenizer::unk_id() const { return impl_->unk; }
int Tokenizer::pad_id() const { return impl_->pad; }
const std::string& Tokenizer::path() const { return impl_->path; }

std::string Tokenizer::id_to_piece(int id) const {
  char* piece = nullptr;
  size_t len = 0;
  if (impl_->api->id_to_piece(impl_->handle, id, &piece, &len) != 0) {
    throw InvalidArgument(impl_->path + ": token id " + std::to_string(id) +
                          " out of range (vocabulary size " + std::to_string(impl_->vocab_size) +
                          ")");
  }
  std::string out(piece, len);
  std::free(piece);
  return out;
}

int Tokenizer::piece_to_id(const std::string& piece) const {
  return impl_->api->piece_to_id(impl_->handle, piece.data(), piece.size());
}

bool Tokenizer::is_byte(int id) const {
  const int kind = impl_->api->piece_kind(impl_->handle, id);
  return kind > 0 && (kind & 4) != 0;
}

bool Tokenizer::is_control(int id) const {
  const int kind = impl_->api->piece_kind(impl_->handle, id);
  return kind > 0 && (kind & 1) != 0;
}

}  // namespace pplug
