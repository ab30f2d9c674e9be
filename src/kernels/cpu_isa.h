// Which instruction set the hand-written kernels use, chosen once at run time.
//
// The AVX-512 kernels are compiled with per-function target attributes, not with -march, so the
// library stays loadable on any x86-64 (or non-x86) machine and picks the portable loops there.
#pragma once

namespace pplug::kernels {

// Ordered: each level includes the ones before it.
enum class Isa {
  kPortable = 0,    // plain C++ loops (auto-vectorised for the build's -march)
  kAvx512 = 1,      // AVX-512 F/BW/VL intrinsics
  kAvx512Bf16 = 2,  // plus AVX512_BF16 (vdpbf16ps) for bfloat16 weights
};

// The best kernel set this CPU runs. The environment variable PPLUG_KERNELS=portable|avx512
// caps it (to compare kernel sets, or to rule the fast paths out when debugging).
Isa best_isa();

// `wanted` lowered to what this CPU supports.
Isa usable_isa(Isa wanted);

const char* isa_name(Isa isa);

}  // namespace pplug::kernels
