#include "kernels/cpu_isa.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "util/log.h"

namespace pplug::kernels {
namespace {

Isa detect_cpu() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) return Isa::kPortable;
  // F16C has no __builtin_cpu_supports name in GCC 12; every CPU with AVX2 and FMA has it
  // (Haswell, Zen and later), and the AVX2 kernels use it for float16 weights.
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")) {
    return __builtin_cpu_supports("avx512bf16") ? Isa::kAvx512Bf16 : Isa::kAvx512;
  }
  return Isa::kAvx2;
#else
  return Isa::kPortable;
#endif
}

Isa detect_best() {
  Isa isa = cpu_isa();
  const char* cap = std::getenv("PPLUG_KERNELS");
  if (cap == nullptr || *cap == '\0') return isa;
  Isa wanted = isa;
  if (!parse_isa(cap, &wanted)) {
    PPLUG_LOG_WARN("PPLUG_KERNELS={} is not one of portable, avx2, avx512, avx512_bf16; using {}",
                   cap, isa_name(isa));
    return isa;
  }
  return std::min(isa, wanted);
}

}  // namespace

Isa cpu_isa() {
  static const Isa isa = detect_cpu();
  return isa;
}

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
    case Isa::kAvx2:
      return "avx2";
    default:
      return "portable";
  }
}

bool parse_isa(const char* name, Isa* out) {
  for (Isa isa : {Isa::kPortable, Isa::kAvx2, Isa::kAvx512, Isa::kAvx512Bf16}) {
    if (std::strcmp(name, isa_name(isa)) == 0) {
      *out = isa;
      return true;
    }
  }
  return false;
}

}  // namespace pplug::kernels
