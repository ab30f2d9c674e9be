// Exceptions thrown at pplug's public boundary. Library code never aborts or exits: every
// failure a caller can cause (bad files, bad options, mismatched checkpoints) is one of these,
// with a message that names the file, the field and the offending value.
#pragma once

#include <stdexcept>
#include <string>

namespace pplug {

// Base class of every pplug exception.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A file is missing, unreadable, truncated, or its contents break the format.
class FormatError : public Error {
 public:
  using Error::Error;
};

// An argument or option has an invalid value (wrong shape, out of range, unknown name).
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

// Two artifacts that must agree do not (a plug-in trained for another model, id sets that differ).
class MismatchError : public Error {
 public:
  using Error::Error;
};

}  // namespace pplug
