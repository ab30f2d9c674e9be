// Cheap recognition of llama2.c version-0 checkpoints (header plausibility + exact file size).
#pragma once

#include <string>

namespace pplug::detail {

bool is_llama2c_checkpoint(const std::string& path);

}  // namespace pplug::detail
