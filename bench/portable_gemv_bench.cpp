// The portable decode GEMV (src/kernels/portable_gemv.h) on weights the size of the 110M
// model's, against a same-run memory-read probe, printed as one JSON line. CMake builds it twice:
// for this CPU (-march=native) and for AVX2 (-march=haswell), which is what a CPU without AVX-512
// runs, since the hand-written kernels need AVX-512.
//
//   portable_gemv_bench_avx2 [--repeats R]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "kernels/portable_gemv.h"

#ifndef PPLUG_BENCH_ARCH
#define PPLUG_BENCH_ARCH "native"
#endif

namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Reads every float once (32 accumulators, so the loop is bound by memory, not by FMA latency).
float read_probe(const std::vector<float>& a) {
  float part[32] = {};
  for (size_t i = 0; i + 32 <= a.size(); i += 32) {
    for (int l = 0; l < 32; ++l) part[l] += a[i + l];
  }
  float s = 0;
  for (float v : part) s += v;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  int repeats = 5;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--repeats" && i + 1 < argc) {
      repeats = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: portable_gemv_bench [--repeats R]\n");
      return 2;
    }
  }
  // 768 -> 73728 rows: the size of the 110M model's 12 layers of FFN and attention weights.
  // volatile: the library sees these sizes at run time, so the bench must not constant-fold them.
  volatile int64_t k_runtime = 768, n_runtime = 73728;
  const int64_t k = k_runtime, n = n_runtime;
  std::vector<float> w(k * n), x(k), y(n);
  std::vector<uint16_t> wb(k * n);
  for (int64_t i = 0; i < k * n; ++i) {
    w[i] = static_cast<float>(i % 97) * 1e-3f;
    wb[i] = static_cast<uint16_t>(0x3c00 + i % 97);
  }
  for (int64_t i = 0; i < k; ++i) x[i] = 1.0f / static_cast<float>(1 + i);
  double probe = 1e9, f32 = 1e9, bf16 = 1e9;
  float sink = 0;
  for (int r = 0; r < repeats; ++r) {  // interleaved, best of each: the machine is shared
    auto t = Clock::now();
    sink += read_probe(w);
    probe = std::min(probe, seconds(t));
    t = Clock::now();
    pplug::kernels::detail::linear_rows_portable(x.data(), k, 1, w.data(), k, 0, n, y.data(), n,
                                                 false);
    f32 = std::min(f32, seconds(t));
    sink += y[n / 2];
    t = Clock::now();
    pplug::kernels::detail::linear_rows_portable(x.data(), k, 1, wb.data(), k, 0, n, y.data(), n,
                                                 false);
    bf16 = std::min(bf16, seconds(t));
    sink += y[n / 3];
  }
  const double bytes = static_cast<double>(k * n) * 4;
  std::printf(
      "{\"bench\": \"portable_gemv\", \"arch\": \"%s\", \"threads\": 1, \"probe_gb_s\": %.1f, "
      "\"f32_gb_s\": %.1f, \"f32_vs_probe\": %.2f, \"bf16_gb_s\": %.1f, \"bf16_vs_probe_bytes\": "
      "%.2f, \"sink\": %g}\n",
      PPLUG_BENCH_ARCH, bytes / probe / 1e9, bytes / f32 / 1e9, probe / f32, bytes / 2 / bf16 / 1e9,
      probe / 2 / bf16, static_cast<double>(sink));
  return 0;
}
