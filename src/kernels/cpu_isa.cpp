#include "kernels/cpu_isa.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace pplug::kernels {
namespace {

Isa detect_cpu() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")) {
    return __builtin_cpu_supports("avx512bf16") ? Isa::kAvx512Bf16 : Isa::kAvx512;
  }
#endif
  return Isa::kPortable;
}

Isa cpu_isa() {
  static const Isa isa = detect_cpu();
  return isa;
}

Isa detect_best() {
  Isa isa = cpu_isa();
  const char* cap = std::getenv("PPLUG_KERNELS");
  if (cap != nullptr && std::strcmp(cap, "portable") == 0) isa = Isa::kPortable;
  if (cap != nullptr && std::strcmp(cap, "avx512") == 0) isa = std::min(isa, Isa::kAvx512);
  return isa;
}

}  // namespace

Isa best_isa() {
  static const Isa isa = detect_best();
  return isa;
}

Isa usable_isa(Isa wanted) { return std::min(wanted, cpu_isa()); }

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kAvx512Bf16:
      return "avx512_bf16";
    case Isa::kAvx512:
      return "avx512";
    default:
      return "portable";
  }
}

}  // namespace pplug::kernels
