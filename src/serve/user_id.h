// User ids of the service: they name files in the store, so they are checked before any use.
#pragma once

#include <string>

namespace pplug::serve {

inline constexpr size_t kMaxUserIdLength = 128;

// Throws InvalidArgument (naming `field` and the value) unless `id` is 1..128 characters of
// [A-Za-z0-9._-], does not start with '.', and holds no "..": ids never act as paths.
void validate_user_id(const std::string& id, const std::string& field = "user");

}  // namespace pplug::serve
