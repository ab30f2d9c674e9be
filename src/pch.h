// Precompiled header for the libtorch-heavy targets: parsing <torch/torch.h> costs ~20 s per
// translation unit on the CI machines, so it is parsed once per target.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>
