// The narrow C interface of libpplug_spm_shim.so. It isolates sentencepiece (and the protobuf it
// bundles) from libtorch's protobuf: the shim is dlopen'ed with RTLD_LOCAL | RTLD_DEEPBIND, so
// neither library sees the other's symbols. Strings returned through `char**`/`int**` are
// malloc'ed by the shim and released with free().
#pragma once

#include <stddef.h>
#include <stdint.h>

extern "C" {

// Every call that can fail returns 0 on success and writes a message into err (size errlen).
typedef int (*pplug_spm_load_fn)(const char* path, void** handle, char* err, size_t errlen);
// Loads a model from the bytes of a serialized ModelProto (a .model file's contents).
typedef int (*pplug_spm_load_serialized_fn)(const char* data, size_t len, void** handle, char* err,
                                            size_t errlen);
typedef void (*pplug_spm_free_fn)(void* handle);
typedef int (*pplug_spm_encode_fn)(void* handle, const char* text, size_t len, int** ids, size_t* n,
                                   char* err, size_t errlen);
typedef int (*pplug_spm_decode_fn)(void* handle, const int* ids, size_t n, char** text, size_t* len,
                                   char* err, size_t errlen);
typedef int (*pplug_spm_piece_size_fn)(void* handle);
// Writes a malloc'ed copy of the piece (not NUL-terminated within; len gives its size).
typedef int (*pplug_spm_id_to_piece_fn)(void* handle, int id, char** piece, size_t* len);
typedef int (*pplug_spm_piece_to_id_fn)(void* handle, const char* piece, size_t len);
// Which special id: 0 bos, 1 eos, 2 unk, 3 pad.
typedef int (*pplug_spm_special_id_fn)(void* handle, int which);
// Token kind flags: 1 control, 2 unknown, 4 byte, 8 unused.
typedef int (*pplug_spm_piece_kind_fn)(void* handle, int id);
}
