#include "lamp/data/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "pplug/error.h"
#include "util/file_io.h"

namespace pplug::lamp::detail {
namespace {

constexpr size_t kReleaseChunk = size_t{16} << 20;  // release in 16 MiB steps

}  // namespace

MappedFile::MappedFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw FormatError(path + ": cannot open for reading: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    void* m = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    if (m != MAP_FAILED) {
      map_ = m;
      map_size_ = static_cast<size_t>(st.st_size);
      ::madvise(map_, map_size_, MADV_SEQUENTIAL);
      view_ = std::string_view(static_cast<const char*>(map_), map_size_);
    }
  }
  ::close(fd);
  if (map_ == nullptr) {
    buffer_ = pplug::detail::read_file(path);
    view_ = buffer_;
  }
}

MappedFile::~MappedFile() {
  if (map_ != nullptr) ::munmap(map_, map_size_);
}

void MappedFile::release_before(const char* p) {
  if (map_ == nullptr) return;
  const auto consumed = static_cast<size_t>(p - view_.data());
  if (consumed < released_ + kReleaseChunk) return;
  const auto page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t upto = consumed / page * page;
  if (upto <= released_) return;
  ::madvise(static_cast<char*>(map_) + released_, upto - released_, MADV_DONTNEED);
  released_ = upto;
}

}  // namespace pplug::lamp::detail
