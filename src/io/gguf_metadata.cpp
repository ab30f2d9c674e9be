#include "io/gguf_metadata.h"

#include <cstring>
#include <fstream>
#include <limits>

#include "pplug/error.h"

namespace pplug::detail {
namespace {

// Upper bounds that keep hostile files from asking for absurd allocations.
constexpr uint64_t kMaxKeys = 1u << 20;
constexpr uint64_t kMaxStringBytes = 1u << 26;
constexpr uint64_t kMinTensorInfoBytes = 24;

class Reader {
 public:
  explicit Reader(const std::string& path) : path_(path), in_(path, std::ios::binary) {
    if (!in_) throw FormatError(path + ": cannot open for reading");
    in_.seekg(0, std::ios::end);
    size_ = static_cast<uint64_t>(in_.tellg());
    in_.seekg(0);
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw FormatError(path_ + ": offset " + std::to_string(offset_) +
                      (key_.empty() ? "" : " (key \"" + key_ + "\")") + ": " + what);
  }

  void bytes(void* out, uint64_t n) {
    if (n > size_ - offset_) {
      fail("truncated: needs " + std::to_string(n) + " bytes, " + std::to_string(size_ - offset_) +
           " left");
    }
    in_.read(static_cast<char*>(out), static_cast<std::streamsize>(n));
    if (!in_) fail("read failed");
    offset_ += n;
  }

  template <typename T>
  T scalar() {
    T value;
    bytes(&value, sizeof(T));  // GGUF is little-endian, as is every target here
    return value;
  }

  std::string string() {
    const uint64_t n = scalar<uint64_t>();
    if (n > kMaxStringBytes || n > size_ - offset_) {
      fail("string length " + std::to_string(n) + " exceeds the file");
    }
    std::string s(n, '\0');
    bytes(s.data(), n);
    return s;
  }

  uint64_t remaining() const { return size_ - offset_; }
  void set_key(std::string key) { key_ = std::move(key); }

 private:
  std::string path_;
  std::ifstream in_;
  uint64_t size_ = 0;
  uint64_t offset_ = 0;
  std::string key_;
};

std::size_t scalar_size(GgufType type) {
  switch (type) {
    case GgufType::kUint8:
    case GgufType::kInt8:
    case GgufType::kBool:
      return 1;
    case GgufType::kUint16:
    case GgufType::kInt16:
      return 2;
    case GgufType::kUint32:
    case GgufType::kInt32:
    case GgufType::kFloat32:
      return 4;
    case GgufType::kUint64:
    case GgufType::kInt64:
    case GgufType::kFloat64:
      return 8;
    default:
      return 0;
  }
}

// Reads one scalar of `type` into `integer` or `real`; false for non-numeric types.
bool read_number(Reader& r, GgufType type, int64_t* integer, double* real) {
  switch (type) {
    case GgufType::kUint8:
      *integer = r.scalar<uint8_t>();
      return true;
    case GgufType::kInt8:
      *integer = r.scalar<int8_t>();
      return true;
    case GgufType::kBool:
      *integer = r.scalar<uint8_t>() != 0;
      return true;
    case GgufType::kUint16:
      *integer = r.scalar<uint16_t>();
      return true;
    case GgufType::kInt16:
      *integer = r.scalar<int16_t>();
      return true;
    case GgufType::kUint32:
      *integer = r.scalar<uint32_t>();
      return true;
    case GgufType::kInt32:
      *integer = r.scalar<int32_t>();
      return true;
    case GgufType::kUint64: {
      const uint64_t value = r.scalar<uint64_t>();
      if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        r.fail("uint64 value " + std::to_string(value) + " exceeds the signed 64-bit range");
      }
      *integer = static_cast<int64_t>(value);
      return true;
    }
    case GgufType::kInt64:
      *integer = r.scalar<int64_t>();
      return true;
    case GgufType::kFloat32:
      *real = r.scalar<float>();
      return true;
    case GgufType::kFloat64:
      *real = r.scalar<double>();
      return true;
    default:
      return false;
  }
}

bool is_real(GgufType type) { return type == GgufType::kFloat32 || type == GgufType::kFloat64; }

GgufValue read_value(Reader& r) {
  GgufValue v;
  const uint32_t raw_type = r.scalar<uint32_t>();
  if (raw_type > static_cast<uint32_t>(GgufType::kFloat64)) {
    r.fail("unknown value type " + std::to_string(raw_type));
  }
  v.type = static_cast<GgufType>(raw_type);
  if (v.type == GgufType::kString) {
    v.text = r.string();
  } else if (v.type == GgufType::kArray) {
    const uint32_t raw_element = r.scalar<uint32_t>();
    if (raw_element > static_cast<uint32_t>(GgufType::kFloat64)) {
      r.fail("unknown array element type " + std::to_string(raw_element));
    }
    v.element_type = static_cast<GgufType>(raw_element);
    if (v.element_type == GgufType::kArray) r.fail("nested arrays are not supported");
    const uint64_t count = r.scalar<uint64_t>();
    // Every element takes at least one byte (8 for a string's length).
    const uint64_t min_size = v.element_type == GgufType::kString ? 8 : scalar_size(v.element_type);
    if (count > r.remaining() / min_size) {
      r.fail("array of " + std::to_string(count) + " elements exceeds the file");
    }
    if (v.element_type == GgufType::kString) {
      v.texts.reserve(count);
      for (uint64_t i = 0; i < count; ++i) v.texts.push_back(r.string());
    } else if (is_real(v.element_type)) {
      v.reals.resize(count);
      int64_t unused = 0;
      for (uint64_t i = 0; i < count; ++i) read_number(r, v.element_type, &unused, &v.reals[i]);
    } else {
      v.integers.resize(count);
      double unused = 0;
      for (uint64_t i = 0; i < count; ++i) read_number(r, v.element_type, &v.integers[i], &unused);
    }
  } else {
    read_number(r, v.type, &v.integer, &v.real);
  }
  return v;
}

}  // namespace

const GgufValue* GgufMetadata::find(const std::string& key) const {
  const auto it = values.find(key);
  return it == values.end() ? nullptr : &it->second;
}

GgufMetadata read_gguf_metadata(const std::string& path) {
  Reader r(path);
  GgufMetadata meta;
  meta.path = path;
  char magic[4];
  r.bytes(magic, 4);
  if (std::memcmp(magic, "GGUF", 4) != 0) r.fail("not a GGUF file (bad magic)");
  meta.version = r.scalar<uint32_t>();
  if (meta.version != 2 && meta.version != 3) {
    r.fail("unsupported GGUF version " + std::to_string(meta.version));
  }
  meta.tensor_count = r.scalar<uint64_t>();
  // Each tensor's info takes at least 24 bytes (name length, n_dims, type, offset).
  if (meta.tensor_count > r.remaining() / kMinTensorInfoBytes) {
    r.fail("tensor count " + std::to_string(meta.tensor_count) + " exceeds the file (" +
           std::to_string(r.remaining()) + " bytes left)");
  }
  const uint64_t key_count = r.scalar<uint64_t>();
  if (key_count > kMaxKeys) r.fail("implausible key count " + std::to_string(key_count));
  for (uint64_t i = 0; i < key_count; ++i) {
    r.set_key("");
    std::string key = r.string();
    r.set_key(key);
    GgufValue value = read_value(r);
    if (!meta.values.emplace(key, std::move(value)).second) r.fail("duplicate key");
  }
  return meta;
}

}  // namespace pplug::detail
