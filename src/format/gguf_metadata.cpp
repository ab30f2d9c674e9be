#include "format/gguf_metadata.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>

#include "pplug/error.h"

namespace pplug::detail {
namespace {

// Upper bounds that keep hostile files from asking for absurd allocations.
constexpr uint64_t kMaxKeys = 1u << 20;
constexpr uint64_t kMaxStringBytes = 1u << 26;
constexpr uint64_t kMaxTensors = 1u << 20;
constexpr uint32_t kMaxDims = 4;  // GGML_MAX_DIMS

struct TypeLayout {
  uint32_t id;
  const char* name;
  uint64_t block;  // values per block
  uint64_t bytes;  // bytes per block
};

// The layouts ggml defines (ggml.c's type traits) for the types a llama-family file holds.
constexpr TypeLayout kLayouts[] = {
    {0, "F32", 1, 4},       {1, "F16", 1, 2},       {2, "Q4_0", 32, 18},    {3, "Q4_1", 32, 20},
    {6, "Q5_0", 32, 22},    {7, "Q5_1", 32, 24},    {8, "Q8_0", 32, 34},    {9, "Q8_1", 32, 36},
    {10, "Q2_K", 256, 84},  {11, "Q3_K", 256, 110}, {12, "Q4_K", 256, 144}, {13, "Q5_K", 256, 176},
    {14, "Q6_K", 256, 210}, {15, "Q8_K", 256, 292}, {24, "I8", 1, 1},       {25, "I16", 1, 2},
    {26, "I32", 1, 4},      {27, "I64", 1, 8},      {28, "F64", 1, 8},      {30, "BF16", 1, 2},
};

const TypeLayout* layout_of(uint32_t type) {
  for (const auto& l : kLayouts) {
    if (l.id == type) return &l;
  }
  return nullptr;
}
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
                      (context_.empty() ? "" : " (" + context_ + ")") + ": " + what);
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
  uint64_t offset() const { return offset_; }
  uint64_t size() const { return size_; }
  void set_key(const std::string& key) { context_ = key.empty() ? "" : "key \"" + key + "\""; }
  void set_tensor(const std::string& name) { context_ = "tensor \"" + name + "\""; }

 private:
  std::string path_;
  std::ifstream in_;
  uint64_t size_ = 0;
  uint64_t offset_ = 0;
  std::string context_;  // what is being read, for error messages
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

// The tensor table after the metadata, then where the data section starts (aligned); every
// tensor's bytes must lie inside the file, after the table, aligned and not overlapping.
void read_tensor_table(Reader& r, GgufMetadata& meta) {
  if (const GgufValue* a = meta.find("general.alignment")) {
    if (a->type != GgufType::kUint32 || a->integer == 0 || (a->integer & (a->integer - 1)) != 0) {
      r.fail("general.alignment must be a uint32 power of two, got " + std::to_string(a->integer));
    }
    meta.alignment = static_cast<uint64_t>(a->integer);
  }
  // Each entry takes at least 8 (name length) + 4 + 8 + 4 + 8 bytes.
  if (meta.tensor_count > kMaxTensors || meta.tensor_count > r.remaining() / 32) {
    r.fail("tensor count " + std::to_string(meta.tensor_count) + " exceeds the file");
  }
  std::vector<uint64_t> relative(meta.tensor_count);
  for (uint64_t i = 0; i < meta.tensor_count; ++i) {
    GgufTensorInfo t;
    t.name = r.string();
    r.set_tensor(t.name);
    const uint32_t dims = r.scalar<uint32_t>();
    if (dims == 0 || dims > kMaxDims) r.fail("has " + std::to_string(dims) + " dimensions");
    uint64_t elements = 1;
    std::vector<int64_t> ne(dims);
    for (uint32_t d = 0; d < dims; ++d) {
      const uint64_t n = r.scalar<uint64_t>();
      if (n == 0 || n > (uint64_t{1} << 40) || elements > (uint64_t{1} << 62) / n) {
        r.fail("dimension " + std::to_string(d) + " = " + std::to_string(n) +
               " is zero or too large");
      }
      elements *= n;
      ne[d] = static_cast<int64_t>(n);
    }
    t.shape.assign(ne.rbegin(), ne.rend());
    t.type = r.scalar<uint32_t>();
    relative[i] = r.scalar<uint64_t>();
    t.bytes = ggml_type_bytes(t.type, elements);
    if (layout_of(t.type) != nullptr && t.bytes == 0) {
      r.fail(std::to_string(elements) + " values are not whole blocks of " +
             ggml_type_name(t.type));
    }
    if (relative[i] % meta.alignment != 0) {
      r.fail("data offset " + std::to_string(relative[i]) + " is not a multiple of the alignment " +
             std::to_string(meta.alignment));
    }
    if (meta.find_tensor(t.name) != nullptr) r.fail("duplicate tensor name");
    meta.tensors.push_back(std::move(t));
    r.set_key("");
  }
  const uint64_t data_start = (r.offset() + meta.alignment - 1) / meta.alignment * meta.alignment;
  std::vector<std::pair<uint64_t, uint64_t>> spans;  // [begin, end) of each known-size tensor
  for (uint64_t i = 0; i < meta.tensor_count; ++i) {
    GgufTensorInfo& t = meta.tensors[i];
    r.set_tensor(t.name);
    if (relative[i] > r.size() || data_start > r.size() - relative[i] ||
        t.bytes > r.size() - data_start - relative[i]) {
      r.fail("its " + std::to_string(t.bytes) + " bytes at data offset " +
             std::to_string(relative[i]) + " run past the end of the file (" +
             std::to_string(r.size()) + " bytes)");
    }
    t.offset = data_start + relative[i];
    if (t.bytes > 0) spans.emplace_back(t.offset, t.offset + t.bytes);
  }
  r.set_key("");
  std::sort(spans.begin(), spans.end());
  for (size_t i = 1; i < spans.size(); ++i) {
    if (spans[i].first < spans[i - 1].second) {
      r.fail("two tensors' bytes overlap at offset " + std::to_string(spans[i].first));
    }
  }
}

}  // namespace

const GgufValue* GgufMetadata::find(const std::string& key) const {
  const auto it = values.find(key);
  return it == values.end() ? nullptr : &it->second;
}

const GgufTensorInfo* GgufMetadata::find_tensor(const std::string& name) const {
  for (const auto& t : tensors) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

bool is_gguf_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {0};
  return in.read(magic, 4) && std::memcmp(magic, "GGUF", 4) == 0;
}

std::string ggml_type_name(uint32_t type) {
  const TypeLayout* l = layout_of(type);
  return l != nullptr ? l->name : "type " + std::to_string(type);
}

uint64_t ggml_type_bytes(uint32_t type, uint64_t elements) {
  const TypeLayout* l = layout_of(type);
  if (l == nullptr || elements % l->block != 0) return 0;
  const uint64_t blocks = elements / l->block;
  if (blocks > UINT64_MAX / l->bytes) return 0;
  return blocks * l->bytes;
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
  r.set_key("");
  read_tensor_table(r, meta);
  return meta;
}

}  // namespace pplug::detail
