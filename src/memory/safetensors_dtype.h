// Mapping between safetensors dtype names and torch scalar types.
#pragma once

#include <c10/core/ScalarType.h>

#include <optional>
#include <string>

namespace pplug::detail {

struct SafetensorsElement {
  c10::ScalarType scalar_type;
  size_t size;  // bytes per element
};

inline std::optional<SafetensorsElement> safetensors_dtype(const std::string& name) {
  if (name == "F32") return SafetensorsElement{c10::kFloat, 4};
  if (name == "F16") return SafetensorsElement{c10::kHalf, 2};
  if (name == "BF16") return SafetensorsElement{c10::kBFloat16, 2};
  if (name == "F64") return SafetensorsElement{c10::kDouble, 8};
  if (name == "I64") return SafetensorsElement{c10::kLong, 8};
  if (name == "I32") return SafetensorsElement{c10::kInt, 4};
  if (name == "I16") return SafetensorsElement{c10::kShort, 2};
  if (name == "I8") return SafetensorsElement{c10::kChar, 1};
  if (name == "U8") return SafetensorsElement{c10::kByte, 1};
  if (name == "BOOL") return SafetensorsElement{c10::kBool, 1};
  return std::nullopt;
}

inline std::string safetensors_dtype_name(c10::ScalarType type) {
  switch (type) {
    case c10::kFloat:
      return "F32";
    case c10::kHalf:
      return "F16";
    case c10::kBFloat16:
      return "BF16";
    case c10::kDouble:
      return "F64";
    case c10::kLong:
      return "I64";
    case c10::kInt:
      return "I32";
    case c10::kShort:
      return "I16";
    case c10::kChar:
      return "I8";
    case c10::kByte:
      return "U8";
    case c10::kBool:
      return "BOOL";
    default:
      return "";
  }
}

}  // namespace pplug::detail
