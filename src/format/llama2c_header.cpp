#include "format/llama2c_header.h"

#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "pplug/error.h"
#include "util/checked_math.h"

namespace pplug::detail {
namespace {

const char* const kFields[7] = {"dim",        "hidden_dim", "n_layers", "n_heads",
                                "n_kv_heads", "vocab_size", "seq_len"};

// Whether field i holds a plausible value: nonzero, below 2^24, negative only for vocab_size.
bool plausible(const int32_t h[7], int i) {
  return !(h[i] == 0 || (i != 5 && h[i] < 0) || std::abs(int64_t{h[i]}) > (1 << 24));
}

// The float32 values a version-0 checkpoint with header `h` holds (h[5] < 0: an untied lm_head
// follows). Every product and sum is checked: a header whose dims multiply past 2^63 throws
// FormatError naming `path` and the tensor, instead of wrapping round to a plausible size.
// Needs every field plausible and h[3] (n_heads) > 0.
int64_t llama2c_floats(const int32_t h[7], const std::string& path) {
  const int64_t d = h[0], hidden = h[1], L = h[2], V = std::abs(int64_t{h[5]}), seq = h[6];
  const int64_t kv = d * h[4] / h[3], hd = d / h[3];  // each field is below 2^24: no overflow
  int64_t total = 0;
  auto add = [&](std::initializer_list<int64_t> factors, const char* tensors) {
    total = checked_add(total, checked_product(factors, path, tensors), path, "total size");
  };
  add({V, d}, "token_embedding_table (vocab_size x dim)");
  add({2, L, d}, "rms_att_weight, rms_ffn_weight (2 x n_layers x dim)");
  add({2, L, d, d}, "wq, wo (2 x n_layers x dim x dim)");
  add({2, L, kv, d}, "wk, wv (2 x n_layers x kv_dim x dim)");
  add({3, L, hidden, d}, "w1, w2, w3 (3 x n_layers x hidden_dim x dim)");
  add({d}, "rms_final_weight (dim)");
  add({seq, hd}, "freq_cis (seq_len x head_dim)");
  if (h[5] < 0) add({V, d}, "wcls (vocab_size x dim)");
  // The byte size must fit too (28 header bytes + 4 per float).
  std::string header = "header (";
  for (int i = 0; i < 7; ++i)
    header += (i ? ", " : "") + std::string(kFields[i]) + " " + std::to_string(h[i]);
  header += "): total bytes";
  checked_add(28, checked_mul(total, 4, path, header), path, header);
  return total;
}

}  // namespace

Llama2cHeader parse_llama2c_header(const std::string& prefix, uint64_t file_size,
                                   const std::string& path) {
  Llama2cHeader out;
  if (file_size < kLlama2cHeaderBytes || prefix.size() < kLlama2cHeaderBytes) {
    throw FormatError(path + ": " + std::to_string(file_size) +
                      " bytes, too short for the 28-byte llama2.c header");
  }
  int32_t* h = out.fields;
  std::memcpy(h, prefix.data(), kLlama2cHeaderBytes);
  for (int i = 0; i < 7; ++i) {
    if (!plausible(h, i)) {
      throw FormatError(path + ": header field " + kFields[i] + " = " + std::to_string(h[i]) +
                        " is not a plausible value (not a llama2.c version-0 checkpoint?)");
    }
  }
  LlamaConfig& c = out.config;
  c.hidden_size = h[0];
  c.intermediate_size = h[1];
  c.num_hidden_layers = h[2];
  c.num_attention_heads = h[3];
  c.num_key_value_heads = h[4];
  c.vocab_size = std::abs(h[5]);
  c.max_position_embeddings = h[6];
  c.tie_word_embeddings = h[5] > 0;
  c.rms_norm_eps = 1e-5;
  c.rope_theta = 10000.0;
  try {
    c.validate(path);
  } catch (const InvalidArgument& e) {
    throw FormatError(e.what());
  }
  out.floats = llama2c_floats(h, path);
  const uint64_t expected = kLlama2cHeaderBytes + static_cast<uint64_t>(out.floats) * 4;
  if (file_size != expected) {
    throw FormatError(path + ": " + std::to_string(file_size) + " bytes, but its header (dim " +
                      std::to_string(c.hidden_size) + ", " + std::to_string(c.num_hidden_layers) +
                      " layers, vocab " + std::to_string(c.vocab_size) + ") requires " +
                      std::to_string(expected) +
                      (file_size < expected ? " (truncated file)" : " (trailing bytes)"));
  }
  return out;
}

bool looks_like_llama2c(const std::string& prefix, uint64_t file_size) {
  if (file_size < kLlama2cHeaderBytes || prefix.size() < kLlama2cHeaderBytes) return false;
  int32_t h[7];
  std::memcpy(h, prefix.data(), kLlama2cHeaderBytes);
  for (int i = 0; i < 7; ++i) {
    if (!plausible(h, i)) return false;
  }
  if (h[3] <= 0 || h[0] % h[3] != 0 || h[4] <= 0) return false;
  int64_t floats = 0;
  try {
    floats = llama2c_floats(h, "llama2.c probe");
  } catch (const FormatError&) {
    return false;  // sizes past 2^63: not a checkpoint
  }
  return file_size == kLlama2cHeaderBytes + static_cast<uint64_t>(floats) * 4;
}

}  // namespace pplug::detail
