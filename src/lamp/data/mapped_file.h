// Read-only view of a whole file for single forward passes. Regular files are memory-mapped and
// the pages already consumed can be handed back to the kernel, so parsing a file of hundreds of
// MB does not keep the whole file resident next to the parsed result.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace pplug::lamp::detail {

class MappedFile {
 public:
  // Maps (or, for non-regular files, reads) `path`; throws FormatError naming it on failure.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::string_view view() const { return view_; }
  // Tells the kernel the bytes before `p` will not be read again soon (they are re-read from the
  // page cache if they are, e.g. to locate an error). Cheap to call often.
  void release_before(const char* p);

 private:
  std::string_view view_;
  void* map_ = nullptr;  // the mapping, null when the file was read into buffer_
  size_t map_size_ = 0;
  size_t released_ = 0;  // bytes from the start already released
  std::string buffer_;   // fallback storage
};

}  // namespace pplug::lamp::detail
