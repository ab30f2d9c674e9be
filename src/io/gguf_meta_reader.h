// Typed reads of GGUF metadata values with errors naming the file and the key.
#pragma once

#include <cstdint>
#include <string>

#include "format/gguf_metadata.h"
#include "kernels/weight_type.h"
#include "pplug/error.h"

namespace pplug::detail {

// The pplug weight type of a ggml type id; false for the ones pplug does not hold.
inline bool weight_type_of(uint32_t ggml, kernels::WeightType* out) {
  switch (static_cast<GgmlType>(ggml)) {
    case GgmlType::kF32:
      *out = kernels::WeightType::kF32;
      return true;
    case GgmlType::kF16:
      *out = kernels::WeightType::kF16;
      return true;
    case GgmlType::kBF16:
      *out = kernels::WeightType::kBF16;
      return true;
    case GgmlType::kQ8_0:
      *out = kernels::WeightType::kQ8_0;
      return true;
    case GgmlType::kQ4_0:
      *out = kernels::WeightType::kQ4_0;
      return true;
    default:  // expanded at load (ggml_dequantize.h) or not read
      return false;
  }
}

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
