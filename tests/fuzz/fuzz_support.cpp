#include "fuzz_support.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "pplug/logging.h"

namespace pplug::fuzz {

void quiet_logs() {
  static const bool done = [] {
    set_log_level(LogLevel::kOff);
    return true;
  }();
  (void)done;
}

void undocumented_exception(const char* what_kind, const char* what) {
  std::fprintf(stderr, "pplug fuzz: undocumented exception %s: %s\n", what_kind, what);
  std::abort();
}

TempFile::TempFile(std::string_view name, const uint8_t* data, size_t size) {
  namespace fs = std::filesystem;
  dir_ = (fs::temp_directory_path() / ("pplug-fuzz-" + std::to_string(getpid()))).string();
  fs::create_directories(dir_);
  path_ = dir_ + "/" + std::string(name);
  std::ofstream out(path_, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) {
    std::fprintf(stderr, "pplug fuzz: cannot write %s\n", path_.c_str());
    std::abort();
  }
}

TempFile::~TempFile() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

}  // namespace pplug::fuzz
