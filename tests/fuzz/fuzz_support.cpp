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

namespace {

// The process's own folder, made once and removed when the process exits normally (a crash
// leaves it behind in the temporary directory, named by the pid). The string is never freed:
// the atexit handler runs after static destructors registered later.
const std::string& process_dir() {
  static const std::string& dir = *new std::string([] {
    namespace fs = std::filesystem;
    const fs::path path = fs::temp_directory_path() / ("pplug-fuzz-" + std::to_string(getpid()));
    fs::create_directories(path);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(process_dir(), ec);
    });
    return path.string();
  }());
  return dir;
}

}  // namespace

TempFile::TempFile(std::string_view name, const uint8_t* data, size_t size)
    : path_(process_dir() + "/" + std::string(name)) {
  std::ofstream out(path_, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) {
    std::fprintf(stderr, "pplug fuzz: cannot write %s\n", path_.c_str());
    std::abort();
  }
}

TempFile::~TempFile() {
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

}  // namespace pplug::fuzz
