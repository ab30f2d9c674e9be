// The safetensors header (8-byte little-endian length, then JSON: per tensor dtype, shape and
// data_offsets, plus an optional "__metadata__" string map) and the sharded index
// (model.safetensors.index.json), parsed and validated without libtorch. SafetensorsFile and
// read_hf_weights build tensors only from what these return (see docs/formats.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace pplug::detail {

// Bytes per element of a safetensors dtype name ("F32" 4, "BF16" 2, "BOOL" 1, ...); 0 when the
// name is not one pplug knows.
size_t safetensors_element_size(const std::string& dtype);

struct SafetensorsEntry {
  std::string dtype;           // safetensors name: "F32", "F16", "BF16", "I64", ...
  std::vector<int64_t> shape;  // empty for a scalar
  uint64_t begin = 0;          // byte offsets relative to the data section
  uint64_t end = 0;
};

struct SafetensorsHeader {
  uint64_t data_offset = 0;  // first byte of the data section: 8 + the header length
  uint64_t data_size = 0;    // bytes from data_offset to the end of the file
  std::unordered_map<std::string, SafetensorsEntry> tensors;
  std::vector<std::string> order;               // tensor names by data offset
  std::map<std::string, std::string> metadata;  // "__metadata__" (empty when absent)
};

// Parses and validates the header of the safetensors bytes [bytes, bytes + size) (a whole file;
// size >= 8): the length field against the size and a 100 MiB limit, every entry's dtype, shape
// and byte count (overflow-checked), offsets inside the data section and not overlapping.
// Throws FormatError("<source>: ...") naming the tensor.
SafetensorsHeader parse_safetensors_header(const uint8_t* bytes, uint64_t size,
                                           const std::string& source);

// The weight_map of a model.safetensors.index.json text: shard file name -> tensor names.
// Throws FormatError("<source>: ...") for invalid JSON, a missing weight_map, a value that is not
// a string or a shard name with a '/'.
std::map<std::string, std::set<std::string>> parse_safetensors_index(const std::string& text,
                                                                     const std::string& source);

}  // namespace pplug::detail
