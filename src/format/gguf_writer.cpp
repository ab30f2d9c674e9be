#include "format/gguf_writer.h"

#include <algorithm>

#include "pplug/error.h"
#include "util/file_io.h"

namespace pplug::detail {
namespace {

constexpr uint64_t kAlignment = 32;  // GGUF's default, so no general.alignment key is needed

template <typename T>
void put(std::string& out, T value) {  // little-endian, as every target here
  out.append(reinterpret_cast<const char*>(&value), sizeof(T));
}

void put_string(std::string& out, std::string_view s) {
  put<uint64_t>(out, s.size());
  out.append(s.data(), s.size());
}

}  // namespace

void GgufWriter::add_key(const std::string& key, GgufType type, std::string_view payload) {
  if (std::find(keys_.begin(), keys_.end(), key) != keys_.end()) {
    throw InvalidArgument("GGUF key \"" + key + "\" added twice");
  }
  keys_.push_back(key);
  put_string(metadata_, key);
  put<uint32_t>(metadata_, static_cast<uint32_t>(type));
  metadata_.append(payload.data(), payload.size());
}

void GgufWriter::add_uint32(const std::string& key, uint32_t value) {
  std::string p;
  put(p, value);
  add_key(key, GgufType::kUint32, p);
}

void GgufWriter::add_int32(const std::string& key, int32_t value) {
  std::string p;
  put(p, value);
  add_key(key, GgufType::kInt32, p);
}

void GgufWriter::add_float32(const std::string& key, float value) {
  std::string p;
  put(p, value);
  add_key(key, GgufType::kFloat32, p);
}

void GgufWriter::add_bool(const std::string& key, bool value) {
  std::string p;
  put<uint8_t>(p, value ? 1 : 0);
  add_key(key, GgufType::kBool, p);
}

void GgufWriter::add_string(const std::string& key, const std::string& value) {
  std::string p;
  put_string(p, value);
  add_key(key, GgufType::kString, p);
}

void GgufWriter::add_strings(const std::string& key, const std::vector<std::string>& values) {
  std::string p;
  put<uint32_t>(p, static_cast<uint32_t>(GgufType::kString));
  put<uint64_t>(p, values.size());
  for (const auto& v : values) put_string(p, v);
  add_key(key, GgufType::kArray, p);
}

void GgufWriter::add_float32s(const std::string& key, const std::vector<float>& values) {
  std::string p;
  put<uint32_t>(p, static_cast<uint32_t>(GgufType::kFloat32));
  put<uint64_t>(p, values.size());
  for (float v : values) put(p, v);
  add_key(key, GgufType::kArray, p);
}

void GgufWriter::add_int32s(const std::string& key, const std::vector<int32_t>& values) {
  std::string p;
  put<uint32_t>(p, static_cast<uint32_t>(GgufType::kInt32));
  put<uint64_t>(p, values.size());
  for (int32_t v : values) put(p, v);
  add_key(key, GgufType::kArray, p);
}

void GgufWriter::add_uint8s(const std::string& key, std::string_view bytes) {
  std::string p;
  put<uint32_t>(p, static_cast<uint32_t>(GgufType::kUint8));
  put<uint64_t>(p, bytes.size());
  p.append(bytes.data(), bytes.size());
  add_key(key, GgufType::kArray, p);
}

void GgufWriter::add_tensor(const std::string& name, const std::vector<int64_t>& shape,
                            GgmlType type, uint64_t bytes, std::function<std::string()> produce) {
  for (const auto& t : tensors_) {
    if (t.name == name) throw InvalidArgument("GGUF tensor \"" + name + "\" added twice");
  }
  uint64_t elements = 1;
  for (int64_t d : shape) elements *= static_cast<uint64_t>(d);
  const uint64_t expected = ggml_type_bytes(static_cast<uint32_t>(type), elements);
  if (shape.empty() || expected == 0 || expected != bytes) {
    throw InvalidArgument("GGUF tensor \"" + name + "\": " + std::to_string(bytes) +
                          " bytes do not hold its values as " +
                          ggml_type_name(static_cast<uint32_t>(type)));
  }
  tensors_.push_back({name, shape, type, bytes, std::move(produce)});
}

void GgufWriter::write(const std::string& path) const {
  std::string header = "GGUF";
  put<uint32_t>(header, 3);
  put<uint64_t>(header, tensors_.size());
  put<uint64_t>(header, keys_.size());
  header += metadata_;
  uint64_t offset = 0;
  for (const auto& t : tensors_) {
    put_string(header, t.name);
    put<uint32_t>(header, static_cast<uint32_t>(t.shape.size()));
    for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it) {  // innermost first
      put<uint64_t>(header, static_cast<uint64_t>(*it));
    }
    put<uint32_t>(header, static_cast<uint32_t>(t.type));
    put<uint64_t>(header, offset);
    offset += (t.bytes + kAlignment - 1) / kAlignment * kAlignment;
  }
  AtomicFileWriter out(path);
  out.append(header);
  out.pad_to(kAlignment);
  for (const auto& t : tensors_) {
    const std::string bytes = t.produce();
    if (bytes.size() != t.bytes) {
      throw Error(path + ": tensor \"" + t.name + "\" produced " + std::to_string(bytes.size()) +
                  " bytes, expected " + std::to_string(t.bytes));
    }
    out.append(bytes);
    out.pad_to(kAlignment);
  }
  out.commit();
}

}  // namespace pplug::detail
