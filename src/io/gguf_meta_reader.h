// Typed reads of GGUF metadata values with errors naming the file and the key.
#pragma once

#include <cstdint>
#include <string>

#include "io/gguf_metadata.h"
#include "pplug/error.h"

namespace pplug::detail {

class GgufMetaReader {
 public:
  explicit GgufMetaReader(const GgufMetadata& meta) : meta_(meta) {}
  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw FormatError(meta_.path + ": " + key + ": " + what);
  }
  int64_t integer(const std::string& key, const int64_t* fallback = nullptr) const {
    const auto* v = meta_.find(key);
    if (v == nullptr) {
      if (fallback != nullptr) return *fallback;
      fail(key, "missing");
    }
    if (v->type == GgufType::kString || v->type == GgufType::kArray ||
        v->type == GgufType::kFloat32 || v->type == GgufType::kFloat64) {
      fail(key, "expected an integer");
    }
    return v->integer;
  }
  double real(const std::string& key, double fallback) const {
    const auto* v = meta_.find(key);
    if (v == nullptr) return fallback;
    if (v->type != GgufType::kFloat32 && v->type != GgufType::kFloat64) {
      fail(key, "expected a float");
    }
    return v->real;
  }
  std::string text(const std::string& key) const {
    const auto* v = meta_.find(key);
    if (v == nullptr) fail(key, "missing");
    if (v->type != GgufType::kString) fail(key, "expected a string");
    return v->text;
  }

 private:
  const GgufMetadata& meta_;
};

}  // namespace pplug::detail
