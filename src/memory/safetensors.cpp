#include "pplug/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <unordered_map>

#include "format/safetensors_header.h"
#include "memory/safetensors_dtype.h"
#include "pplug/error.h"
#include "util/file_io.h"

namespace pplug {
namespace {

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// A read-only memory map that unmaps itself.
struct Mapping {
  void* data = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (data != nullptr && size > 0) ::munmap(data, size);
  }
};

}  // namespace

struct SafetensorsFile::Impl {
  std::string path;
  std::shared_ptr<Mapping> mapping;       // file-backed data
  std::shared_ptr<std::string> owned;     // or in-memory data
  const uint8_t* data_section = nullptr;  // first byte after the header
  uint64_t data_size = 0;
  std::unordered_map<std::string, SafetensorInfo> tensors;
  std::vector<std::string> order;
  std::map<std::string, std::string> metadata;

  [[noreturn]] void fail(const std::string& what) const { throw FormatError(path + ": " + what); }

  // Validates the header (format/safetensors_header) and keeps what it describes.
  void init(const uint8_t* bytes, uint64_t size);
};

SafetensorsFile::SafetensorsFile(const std::string& path) : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) impl_->fail(std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    impl_->fail("cannot stat");
  }
  const auto file_size = static_cast<uint64_t>(st.st_size);
  if (file_size < 8) {
    ::close(fd);
    impl_->fail("file is " + std::to_string(file_size) + " bytes, too short for a header length");
  }
  auto mapping = std::make_shared<Mapping>();
  mapping->data = ::mmap(nullptr, file_size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (mapping->data == MAP_FAILED) {
    mapping->data = nullptr;
    impl_->fail(std::string("cannot memory-map: ") + std::strerror(errno));
  }
  mapping->size = file_size;
  impl_->mapping = mapping;
  impl_->init(static_cast<const uint8_t*>(mapping->data), file_size);
}

SafetensorsFile SafetensorsFile::from_bytes(std::string bytes, const std::string& source) {
  SafetensorsFile file;
  file.impl_->path = source;
  file.impl_->owned = std::make_shared<std::string>(std::move(bytes));
  file.impl_->init(reinterpret_cast<const uint8_t*>(file.impl_->owned->data()),
                   file.impl_->owned->size());
  return file;
}

SafetensorsFile::SafetensorsFile() : impl_(std::make_unique<Impl>()) {}

void SafetensorsFile::Impl::init(const uint8_t* bytes, uint64_t file_size) {
  detail::SafetensorsHeader header = detail::parse_safetensors_header(bytes, file_size, path);
  data_section = bytes + header.data_offset;
  data_size = header.data_size;
  for (auto& [name, entry] : header.tensors) {
    tensors.emplace(name, SafetensorInfo{std::move(entry.dtype), std::move(entry.shape),
                                         entry.begin, entry.end});
  }
  order = std::move(header.order);
  metadata = std::move(header.metadata);
}

SafetensorsFile::~SafetensorsFile() = default;
SafetensorsFile::SafetensorsFile(SafetensorsFile&&) noexcept = default;
SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&&) noexcept = default;

const std::string& SafetensorsFile::path() const { return impl_->path; }
std::vector<std::string> SafetensorsFile::names() const { return impl_->order; }
bool SafetensorsFile::contains(const std::string& name) const {
  return impl_->tensors.count(name) > 0;
}
const std::map<std::string, std::string>& SafetensorsFile::metadata() const {
  return impl_->metadata;
}

const SafetensorInfo& SafetensorsFile::info(const std::string& name) const {
  const auto it = impl_->tensors.find(name);
  if (it == impl_->tensors.end()) impl_->fail("missing tensor '" + name + "'");
  return it->second;
}

torch::Tensor SafetensorsFile::get(const std::string& name) const {
  const SafetensorInfo& meta = info(name);
  const auto element = detail::safetensors_dtype(meta.dtype);
  auto out = at::empty(meta.shape, at::TensorOptions().dtype(element->scalar_type));
  std::memcpy(out.data_ptr(), impl_->data_section + meta.begin, meta.end - meta.begin);
  return out;
}

torch::Tensor SafetensorsFile::get(const std::string& name, torch::Dtype dtype,
                                   const std::vector<int64_t>& expected_shape) const {
  const SafetensorInfo& meta = info(name);
  if (!expected_shape.empty() && meta.shape != expected_shape) {
    impl_->fail("tensor '" + name + "' has shape " + shape_string(meta.shape) + ", expected " +
                shape_string(expected_shape));
  }
  auto t = get(name);
  return t.scalar_type() == dtype ? t : t.to(dtype);
}

std::string serialize_safetensors(const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                                  const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<torch::Tensor> contiguous;
  contiguous.reserve(tensors.size());
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    if (name.empty() || name == "__metadata__") {
      throw InvalidArgument("safetensors: invalid tensor name '" + name + "'");
    }
    if (header.contains(name))
      throw InvalidArgument("safetensors: duplicate tensor '" + name + "'");
    auto t = tensor.detach().to(at::kCPU).contiguous();
    const auto dtype_name = detail::safetensors_dtype_name(t.scalar_type());
    if (dtype_name.empty()) {
      throw InvalidArgument("safetensors: tensor '" + name + "' has an unsupported dtype");
    }
    const uint64_t bytes = t.numel() * t.element_size();
    header[name] = {{"dtype", dtype_name},
                    {"shape", t.sizes().vec()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    contiguous.push_back(std::move(t));
  }
  std::string head = header.dump();
  // Pad with spaces so the data section starts 8-byte aligned, as the reference writer does.
  head.append((8 - (8 + head.size()) % 8) % 8, ' ');
  std::string out;
  out.reserve(8 + head.size() + offset);
  const uint64_t len = head.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((len >> (8 * i)) & 0xff));
  out += head;
  for (const auto& t : contiguous) {
    out.append(static_cast<const char*>(t.data_ptr()), t.numel() * t.element_size());
  }
  return out;
}

void save_safetensors(const std::string& path,
                      const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  detail::write_file_atomic(path, serialize_safetensors(tensors, metadata));
}

}  // namespace pplug
