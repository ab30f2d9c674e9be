// The kernel instruction-set levels a test can exercise on this CPU.
#pragma once

#include <vector>

#include "kernels/cpu_isa.h"

namespace pplug::testing {

// Every kernel set this CPU can run, the portable one always first.
inline std::vector<kernels::Isa> runnable_isas() {
  std::vector<kernels::Isa> out;
  for (auto isa : {kernels::Isa::kPortable, kernels::Isa::kAvx2, kernels::Isa::kAvx512,
                   kernels::Isa::kAvx512Bf16}) {
    if (kernels::usable_isa(isa) == isa) out.push_back(isa);
  }
  return out;
}

}  // namespace pplug::testing
