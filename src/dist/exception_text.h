// The message of an exception thrown by c10d or Gloo, for pplug's own error messages.
#pragma once

#include <c10/util/Exception.h>

#include <exception>
#include <string>

namespace pplug::dist {

// c10::Error's what() carries a C++ backtrace (a dozen frames of c10d internals); its short
// form is what a reader of pplug's message needs.
inline std::string exception_text(const std::exception& error) {
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&error)) {
    return c10_error->what_without_backtrace();
  }
  return error.what();
}

}  // namespace pplug::dist
