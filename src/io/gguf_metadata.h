// The key/value metadata section of a GGUF file (versions 2 and 3), read without the tensors.
// Every read is bounds-checked; errors are FormatError naming the file, the byte offset and
// the key being read.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace pplug::detail {

enum class GgufType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};

// One metadata value. Scalars fill `integer` (all integer types and bool), `real` or `text`;
// arrays fill `texts` (string arrays) or `integers` / `reals` (numeric arrays).
struct GgufValue {
  GgufType type = GgufType::kUint8;
  GgufType element_type = GgufType::kUint8;  // arrays only
  int64_t integer = 0;
  double real = 0.0;
  std::string text;
  std::vector<std::string> texts;
  std::vector<int64_t> integers;
  std::vector<double> reals;
};

struct GgufMetadata {
  std::string path;
  uint32_t version = 0;
  uint64_t tensor_count = 0;
  std::map<std::string, GgufValue> values;

  // The value of `key`, or nullptr.
  const GgufValue* find(const std::string& key) const;
};

// Reads the header and metadata of `path`; FormatError when it is not a GGUF file or is
// truncated or malformed.
GgufMetadata read_gguf_metadata(const std::string& path);

}  // namespace pplug::detail
