// llama2.c version-0 headers (parse_llama2c_header, and the probe looks_like_llama2c). The
// input is the 28 header bytes, then optionally 8 bytes of a claimed file size (else the
// input's own size), so that headers of big models are reachable without big inputs. Accepted:
// the float count matches an independent 128-bit computation and the file size is exact.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "format/llama2c_header.h"
#include "fuzz_support.h"

using namespace pplug;

namespace {

[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "pplug fuzz: accepted llama2.c header breaks an invariant: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::quiet_logs();
  const std::string prefix(reinterpret_cast<const char*>(data), std::min<size_t>(size, 28));
  uint64_t file_size = size;
  if (size >= 36) std::memcpy(&file_size, data + 28, 8);
  (void)detail::looks_like_llama2c(prefix, file_size);  // never throws
  fuzz::expect_documented([&] {
    const detail::Llama2cHeader h = detail::parse_llama2c_header(prefix, file_size, "fuzz.bin");
    const int32_t* f = h.fields;
    const __int128 d = f[0], hidden = f[1], L = f[2], heads = f[3], kvh = f[4], seq = f[6];
    const __int128 V = f[5] < 0 ? -__int128{f[5]} : __int128{f[5]};
    if (heads <= 0 || kvh <= 0) broken("positive head counts");
    const __int128 kv = d * kvh / heads, hd = d / heads;
    const __int128 floats = V * d + 2 * L * d + 2 * L * d * d + 2 * L * kv * d +
                            3 * L * hidden * d + d + seq * hd + (f[5] < 0 ? V * d : 0);
    if (floats != h.floats) broken("float count");
    if (static_cast<unsigned __int128>(28 + 4 * floats) != file_size) broken("exact file size");
    if (h.config.vocab_size != V || h.config.tie_word_embeddings != (f[5] > 0)) broken("config");
  });
  return 0;
}
