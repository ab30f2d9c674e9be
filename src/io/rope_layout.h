// The two RoPE layouts of q/k projection rows. Meta's original code (llama2.c, and llama.cpp's
// GGUF files for the llama architecture) rotates interleaved pairs (x[2i], x[2i+1]) of each
// head; Hugging Face rotates (x[i], x[i + hd/2]). Reordering the output rows of wq/wk converts
// one layout to the other. Rows are moved whole, so this works on any row type, including the
// uint8 block rows of a quantized matrix.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace pplug::detail {

// Writes `w` (interleaved layout, `heads` heads) into `out` in the HF layout.
inline void interleaved_to_halves_into(const at::Tensor& w, int64_t heads, const at::Tensor& out) {
  const int64_t rows = w.size(0), cols = w.size(1), hd = rows / heads;
  out.view({heads, 2, hd / 2, cols}).copy_(w.view({heads, hd / 2, 2, cols}).transpose(1, 2));
}

// Both take a matrix (rows, cols) or a vector of rows (a bias).
inline at::Tensor interleaved_to_halves(const at::Tensor& w, int64_t heads) {
  if (w.dim() == 1) return interleaved_to_halves(w.unsqueeze(1), heads).squeeze(1);
  const int64_t rows = w.size(0), cols = w.size(1), hd = rows / heads;
  return w.contiguous().view({heads, hd / 2, 2, cols}).transpose(1, 2).reshape({rows, cols});
}

inline at::Tensor halves_to_interleaved(const at::Tensor& w, int64_t heads) {
  if (w.dim() == 1) return halves_to_interleaved(w.unsqueeze(1), heads).squeeze(1);
  const int64_t rows = w.size(0), cols = w.size(1), hd = rows / heads;
  return w.contiguous().view({heads, 2, hd / 2, cols}).transpose(1, 2).reshape({rows, cols});
}

}  // namespace pplug::detail
