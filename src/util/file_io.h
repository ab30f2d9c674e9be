// Whole-file reading and atomic writing. Writes go to a temporary file in the same folder,
// are flushed to disk, then renamed over the target, so a crash never leaves a half-written file.
#pragma once

#include <string>
#include <string_view>

namespace pplug::detail {

// Reads a whole file; throws FormatError naming the path when it cannot.
std::string read_file(const std::string& path);
// Writes `data` to `path` atomically (temp file + fsync + rename).
void write_file_atomic(const std::string& path, std::string_view data);

}  // namespace pplug::detail
