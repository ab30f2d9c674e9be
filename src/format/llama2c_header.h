// The llama2.c version-0 checkpoint header: 7 little-endian int32 fields (dim, hidden_dim,
// n_layers, n_heads, n_kv_heads, vocab_size (negative: an untied lm_head follows), seq_len),
// then float32 tensors. Parsed and validated without libtorch; read_llama2c builds tensors only
// from a header this accepted (see docs/formats.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "pplug/llama_config.h"

namespace pplug::detail {

constexpr size_t kLlama2cHeaderBytes = 28;

struct Llama2cHeader {
  int32_t fields[7] = {};  // as stored
  LlamaConfig config;      // the model they describe (rms_norm_eps 1e-5, rope_theta 10000)
  int64_t floats = 0;      // float32 values after the header (embedding, layers, freq_cis, ...)
};

// Validates the header at the start of a `file_size`-byte file whose first min(file_size, 28)
// bytes are `prefix`: every field plausible, the config valid, every size product
// overflow-checked and the file exactly 28 + 4 x floats bytes. Throws FormatError naming
// `path`, with read_llama2c's messages.
Llama2cHeader parse_llama2c_header(const std::string& prefix, uint64_t file_size,
                                   const std::string& path);

// The cheap probe (is_llama2c_checkpoint): plausible fields and the exact file size; never
// throws. `prefix` as above.
bool looks_like_llama2c(const std::string& prefix, uint64_t file_size);

}  // namespace pplug::detail
