// Reading and writing safetensors files (the Hugging Face tensor container).
// Reading memory-maps the file and validates the whole header before any tensor is touched:
// a truncated file, offsets past the end or overlapping, a header length larger than the file,
// an unknown dtype or a shape that disagrees with the byte count is a FormatError naming the
// file and the tensor. Writing is atomic (temporary file + rename).
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace pplug {

struct SafetensorInfo {
  std::string dtype;           // safetensors name: "F32", "F16", "BF16", "I64", ...
  std::vector<int64_t> shape;  // empty for a scalar
  uint64_t begin = 0;          // byte offsets relative to the data section
  uint64_t end = 0;
};

class SafetensorsFile {
 public:
  // Maps and validates `path`; throws FormatError on any inconsistency.
  explicit SafetensorsFile(const std::string& path);
  // Validates in-memory bytes the same way; `source` names them in errors.
  static SafetensorsFile from_bytes(std::string bytes, const std::string& source);
  ~SafetensorsFile();
  SafetensorsFile(SafetensorsFile&&) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept;

  const std::string& path() const;
  // Tensor names in file order of their data.
  std::vector<std::string> names() const;
  bool contains(const std::string& name) const;
  // Throws FormatError naming the file when `name` is absent.
  const SafetensorInfo& info(const std::string& name) const;
  // A copy of the tensor in its stored dtype (owned memory, contiguous).
  torch::Tensor get(const std::string& name) const;
  // A copy converted to `dtype`, with its shape checked against `expected_shape` (if non-empty).
  torch::Tensor get(const std::string& name, torch::Dtype dtype,
                    const std::vector<int64_t>& expected_shape = {}) const;
  // The free-form "__metadata__" map (empty when absent).
  const std::map<std::string, std::string>& metadata() const;

 private:
  SafetensorsFile();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Writes tensors (any CPU dtype safetensors knows, made contiguous) and string metadata
// atomically. Names must be unique and non-empty.
void save_safetensors(const std::string& path,
                      const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// The same file as bytes in memory (used to embed tensors in other containers).
std::string serialize_safetensors(const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                                  const std::map<std::string, std::string>& metadata = {});

}  // namespace pplug
