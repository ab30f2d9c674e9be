// libpplug_spm_shim.so: the only code that touches sentencepiece. Only the Status-returning
// sentencepiece calls are used, so no error is dropped silently.
#include <sentencepiece_processor.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "tokenizer/spm_shim_api.h"

#define PPLUG_SHIM_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

void set_error(char* err, size_t errlen, const std::string& message) {
  if (err == nullptr || errlen == 0) return;
  const size_t n = std::min(errlen - 1, message.size());
  std::memcpy(err, message.data(), n);
  err[n] = '\0';
}

sentencepiece::SentencePieceProcessor* processor(void* handle) {
  return static_cast<sentencepiece::SentencePieceProcessor*>(handle);
}

}  // namespace

namespace {

// A new processor loaded by `load` (a file or serialized bytes), or 1 with the reason in err.
template <typename Load>
int load_processor(Load load, void** handle, char* err, size_t errlen) {
  try {
    auto* sp = new sentencepiece::SentencePieceProcessor();
    const auto status = load(*sp);
    if (!status.ok()) {
      set_error(err, errlen, status.ToString());
      delete sp;
      return 1;
    }
    *handle = sp;
    return 0;
  } catch (const std::exception& e) {
    set_error(err, errlen, e.what());
    return 1;
  }
}

}  // namespace

PPLUG_SHIM_EXPORT int pplug_spm_load(const char* path, void** handle, char* err, size_t errlen) {
  return load_processor([&](sentencepiece::SentencePieceProcessor& sp) { return sp.Load(path); },
                        handle, err, errlen);
}

PPLUG_SHIM_EXPORT int pplug_spm_load_serialized(const char* data, size_t len, void** handle,
                                                char* err, size_t errlen) {
  return load_processor(
      [&](sentencepiece::SentencePieceProcessor& sp) {
        return sp.LoadFromSerializedProto(std::string_view(data, len));
      },
      handle, err, errlen);
}

PPLUG_SHIM_EXPORT void pplug_spm_free(void* handle) { delete processor(handle); }

PPLUG_SHIM_EXPORT int pplug_spm_encode(void* handle, const char* text, size_t len, int** ids,
                                       size_t* n, char* err, size_t errlen) {
  try {
    std::vector<int> out;
    const auto status = processor(handle)->Encode(std::string_view(text, len), &out);
    if (!status.ok()) {
      set_error(err, errlen, status.ToString());
      return 1;
    }
    *n = out.size();
    *ids = static_cast<int*>(std::malloc(std::max<size_t>(1, out.size()) * sizeof(int)));
    if (*ids == nullptr) {
      set_error(err, errlen, "out of memory");
      return 1;
    }
    std::memcpy(*ids, out.data(), out.size() * sizeof(int));
    return 0;
  } catch (const std::exception& e) {
    set_error(err, errlen, e.what());
    return 1;
  }
}

PPLUG_SHIM_EXPORT int pplug_spm_decode(void* handle, const int* ids, size_t n, char** text,
                                       size_t* len, char* err, size_t errlen) {
  try {
    std::string out;
    const auto status = processor(handle)->Decode(std::vector<int>(ids, ids + n), &out);
    if (!status.ok()) {
      set_error(err, errlen, status.ToString());
      return 1;
    }
    *len = out.size();
    *text = static_cast<char*>(std::malloc(out.size() + 1));
    if (*text == nullptr) {
      set_error(err, errlen, "out of memory");
      return 1;
    }
    std::memcpy(*text, out.data(), out.size());
    (*text)[out.size()] = '\0';
    return 0;
  } catch (const std::exception& e) {
    set_error(err, errlen, e.what());
    return 1;
  }
}

PPLUG_SHIM_EXPORT int pplug_spm_piece_size(void* handle) {
  return processor(handle)->GetPieceSize();
}

PPLUG_SHIM_EXPORT int pplug_spm_id_to_piece(void* handle, int id, char** piece, size_t* len) {
  auto* sp = processor(handle);
  if (id < 0 || id >= sp->GetPieceSize()) return 1;
  const std::string& p = sp->IdToPiece(id);
  *len = p.size();
  *piece = static_cast<char*>(std::malloc(p.size() + 1));
  if (*piece == nullptr) return 1;
  std::memcpy(*piece, p.data(), p.size());
  (*piece)[p.size()] = '\0';
  return 0;
}

PPLUG_SHIM_EXPORT int pplug_spm_piece_to_id(void* handle, const char* piece, size_t len) {
  return processor(handle)->PieceToId(std::string_view(piece, len));
}

PPLUG_SHIM_EXPORT int pplug_spm_special_id(void* handle, int which) {
  auto* sp = processor(handle);
  switch (which) {
    case 0:
      return sp->bos_id();
    case 1:
      return sp->eos_id();
    case 2:
      return sp->unk_id();
    case 3:
      return sp->pad_id();
    default:
      return -1;
  }
}

PPLUG_SHIM_EXPORT int pplug_spm_piece_kind(void* handle, int id) {
  auto* sp = processor(handle);
  if (id < 0 || id >= sp->GetPieceSize()) return -1;
  return (sp->IsControl(id) ? 1 : 0) | (sp->IsUnknown(id) ? 2 : 0) | (sp->IsByte(id) ? 4 : 0) |
         (sp->IsUnused(id) ? 8 : 0);
}
