// Writes GGUF version 3 files: key/value metadata, a tensor table, then the tensors' bytes, each
// aligned to general.alignment (32). The file is streamed to a temporary file and renamed into
// place, so a crash leaves either the old file or the complete new one.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "format/gguf_metadata.h"

namespace pplug::detail {

class GgufWriter {
 public:
  // Metadata, written in the order added; a key added twice is an InvalidArgument.
  void add_uint32(const std::string& key, uint32_t value);
  void add_int32(const std::string& key, int32_t value);
  void add_float32(const std::string& key, float value);
  void add_bool(const std::string& key, bool value);
  void add_string(const std::string& key, const std::string& value);
  void add_strings(const std::string& key, const std::vector<std::string>& values);
  void add_float32s(const std::string& key, const std::vector<float>& values);
  void add_int32s(const std::string& key, const std::vector<int32_t>& values);
  void add_uint8s(const std::string& key, std::string_view bytes);

  // A tensor of `shape` (outermost first, as torch orders it) and ggml `type`, whose `bytes`
  // bytes are produced when the file is written: `produce` is called once, in tensor order, and
  // must return exactly `bytes` bytes (so a large model is converted one tensor at a time).
  void add_tensor(const std::string& name, const std::vector<int64_t>& shape, GgmlType type,
                  uint64_t bytes, std::function<std::string()> produce);

  // Writes the file; throws Error naming `path` (and the tensor) when it cannot.
  void write(const std::string& path) const;

 private:
  struct Tensor {
    std::string name;
    std::vector<int64_t> shape;
    GgmlType type;
    uint64_t bytes;
    std::function<std::string()> produce;
  };
  void add_key(const std::string& key, GgufType type, std::string_view payload);

  std::vector<std::string> keys_;
  std::string metadata_;  // the serialized key/value pairs
  std::vector<Tensor> tensors_;
};

}  // namespace pplug::detail
