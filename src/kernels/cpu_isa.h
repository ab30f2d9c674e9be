// Which instruction set the hand-written kernels use, chosen once at run time.
//
// The library is compiled for the baseline of its target (x86-64, or aarch64, ...); kernels for
// wider instruction sets live in files of their own (kernels/x86/*) whose functions carry their
// own target attributes, so one binary runs on every CPU of its architecture and picks the
// fastest kernels the CPU has.
#pragma once

namespace pplug::kernels {

// Ordered: each level includes the ones before it.
enum class Isa {
  kPortable = 0,    // plain C++ loops (auto-vectorised for the build's baseline)
  kAvx2 = 1,        // AVX2 + FMA + F16C (x86-64-v3)
  kAvx512 = 2,      // plus AVX-512 F/BW/VL/DQ
  kAvx512Bf16 = 3,  // plus AVX512_BF16 (vdpbf16ps) for bfloat16 weights
};

// The best kernel set this CPU runs. The environment variable
// PPLUG_KERNELS=portable|avx2|avx512|avx512_bf16 caps it (to compare kernel sets, or to rule
// the fast paths out when debugging); a level the CPU lacks is lowered to what it has.
Isa best_isa();

// What the CPU itself supports, ignoring PPLUG_KERNELS.
Isa cpu_isa();

// `wanted` lowered to what this CPU supports.
Isa usable_isa(Isa wanted);

const char* isa_name(Isa isa);

// Parses "portable", "avx2", "avx512" or "avx512_bf16"; false when `name` is none of them.
bool parse_isa(const char* name, Isa* out);

}  // namespace pplug::kernels
