// Shared pieces of the libFuzzer targets: the oracle (only pplug's documented exceptions may
// leave a parser; anything else is a finding) and a per-process temporary file for parsers
// that take a path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "pplug/error.h"

namespace pplug::fuzz {

// Silences pplug's logging once (a warning per input would drown libFuzzer's output).
void quiet_logs();

// Aborts with the exception's type and message: libFuzzer then keeps the input as a crash.
[[noreturn]] void undocumented_exception(const char* what_kind, const char* what);

// Runs `parse`; a pplug::Error (FormatError, InvalidArgument, MismatchError) is the documented
// way to reject an input and ends the run quietly; any other exception is a finding.
template <class F>
void expect_documented(F&& parse) {
  try {
    parse();
  } catch (const pplug::Error&) {
    // documented rejection
  } catch (const std::exception& e) {
    undocumented_exception(typeid(e).name(), e.what());
  } catch (...) {
    undocumented_exception("non-std exception", "");
  }
}

// A file holding the fuzz input, named `name` (a parser may look at the extension) in a folder
// of the temporary directory unique to this process (its pid); removed by the destructor.
class TempFile {
 public:
  TempFile(std::string_view name, const uint8_t* data, size_t size);
  ~TempFile();
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace pplug::fuzz
