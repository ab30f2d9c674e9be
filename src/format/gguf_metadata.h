// The header of a GGUF file (versions 2 and 3): its key/value metadata and the table of its
// tensors (name, shape, ggml type, where the bytes are), without the tensor data itself.
// Every read is bounds-checked; errors are FormatError naming the file, the byte offset and
// the key or tensor being read.
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

// ggml's tensor type ids (ggml.h); the ones pplug reads or writes have names below (Q4_1, Q5_0,
// Q5_1 and the K-quants it only reads, expanded by format/ggml_dequantize.h).
enum class GgmlType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kBF16 = 30,
};

// Name ("F32", "Q8_0", "Q6_K", ...) of a ggml type id, "type N" for ids not known here.
std::string ggml_type_name(uint32_t type);
// Bytes of `elements` values of a ggml type (whole blocks), or 0 when the type's layout is not
// known here or `elements` is not a whole number of its blocks.
uint64_t ggml_type_bytes(uint32_t type, uint64_t elements);

struct GgufTensorInfo {
  std::string name;
  // Outermost dimension first, as torch orders them (GGUF stores them innermost first): a
  // matrix of `rows` rows of `cols` weights is {rows, cols}.
  std::vector<int64_t> shape;
  uint32_t type = 0;    // a ggml type id
  uint64_t offset = 0;  // of the first byte, from the start of the file
  uint64_t bytes = 0;   // 0 when the type's layout is not known (ggml_type_bytes)
};

struct GgufMetadata {
  std::string path;
  uint32_t version = 0;
  uint64_t tensor_count = 0;
  std::map<std::string, GgufValue> values;
  std::vector<GgufTensorInfo> tensors;  // in file order
  uint64_t alignment = 32;              // general.alignment, else GGUF's default

  // The value of `key`, or nullptr.
  const GgufValue* find(const std::string& key) const;
  // The tensor called `name`, or nullptr.
  const GgufTensorInfo* find_tensor(const std::string& name) const;
};

// True when `path` is a regular file that starts with GGUF's magic (the extension is not needed).
bool is_gguf_file(const std::string& path);

// Reads the header, metadata and tensor table of `path`; FormatError when it is not a GGUF file,
// or is truncated or malformed (a tensor whose bytes are misaligned, overlap the header or run
// past the end of the file, an absurd dimension, a duplicate name).
GgufMetadata read_gguf_metadata(const std::string& path);

}  // namespace pplug::detail
