// Whole-file reading and atomic writing. Writes go to a temporary file in the same folder,
// are flushed to disk, then renamed over the target, so a crash never leaves a half-written file.
#pragma once

#include <string>
#include <string_view>

namespace pplug::detail {

// Reads a whole file; throws FormatError naming the path when it cannot.
std::string read_file(const std::string& path);
// Writes `data` to `path` atomically (temp file + fsync + rename).
void write_file_atomic(const std::string& path, std::string_view data);

// Streams a file into place atomically, for outputs too large to build in memory first:
// append() writes to a temporary file beside `path` (unnamed where the file system allows, so a
// killed process leaves nothing); commit() flushes it to disk and renames it over `path`.
// Destroyed without commit() (an error on the way), the temporary file is removed and `path` is
// untouched. Errors (disk full, read-only folder) are Error naming `path` and the reason.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::string path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void append(std::string_view data);
  // Zero bytes up to the next multiple of `alignment` of the bytes written so far.
  void pad_to(size_t alignment);
  size_t size() const { return written_; }
  void commit();

 private:
  std::string path_;
  std::string tmp_;
  int fd_ = -1;
  bool unnamed_ = false;  // fd_ is an O_TMPFILE file, named tmp_ only inside commit()
  size_t written_ = 0;
};

}  // namespace pplug::detail
