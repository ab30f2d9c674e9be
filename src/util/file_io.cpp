#include "util/file_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "pplug/error.h"

namespace pplug::detail {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FormatError(path + ": cannot open for reading: " + std::strerror(errno));
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) throw FormatError(path + ": read failed");
  return std::move(out).str();
}

void write_file_atomic(const std::string& path, std::string_view data) {
  AtomicFileWriter out(path);
  out.append(data);
  out.commit();
}

namespace {

std::string parent_folder(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Makes a rename inside `folder` durable (the rename itself is atomic either way).
void sync_folder(const std::string& folder) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

AtomicFileWriter::AtomicFileWriter(std::string path) : path_(std::move(path)) {
  std::random_device rd;
  tmp_ = path_ + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(rd());
  // An unnamed file in the target's folder (O_TMPFILE) vanishes by itself when the process dies
  // while writing (kill -9, power loss): only the instant between naming it and the rename in
  // commit() can leave a temporary file behind. Named temporary file where the file system or
  // /proc (to name it) is missing.
#ifdef O_TMPFILE
  if (::access("/proc/self/fd", X_OK) == 0) {
    fd_ = ::open(parent_folder(path_).c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
    unnamed_ = fd_ >= 0;
  }
#endif
  if (fd_ < 0) fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(path_ + ": cannot create: " + std::strerror(errno));
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    if (!unnamed_) ::unlink(tmp_.c_str());
  }
}

void AtomicFileWriter::append(std::string_view data) {
  if (fd_ < 0) throw Error(path_ + ": write after commit");
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(path_ + ": write failed: " + std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  written_ += data.size();
}

void AtomicFileWriter::pad_to(size_t alignment) {
  const size_t pad = (alignment - written_ % alignment) % alignment;
  append(std::string(pad, '\0'));
}

void AtomicFileWriter::commit() {
  if (fd_ < 0) throw Error(path_ + ": committed twice");
  const int fd = fd_;
  fd_ = -1;
  auto fail = [&](const std::string& what) {
    const std::string reason = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    ::unlink(tmp_.c_str());
    throw Error(path_ + ": " + what + ": " + reason);
  };
  if (::fsync(fd) != 0) fail("flush failed");
  if (unnamed_) {
    const std::string self = "/proc/self/fd/" + std::to_string(fd);
    if (::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, tmp_.c_str(), AT_SYMLINK_FOLLOW) != 0) {
      fail("cannot name the temporary file");
    }
  }
  if (::close(fd) != 0) {
    const std::string reason = std::strerror(errno);
    ::unlink(tmp_.c_str());
    throw Error(path_ + ": flush failed: " + reason);
  }
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    ::unlink(tmp_.c_str());
    throw Error(path_ + ": cannot rename temporary file into place: " + reason);
  }
  sync_folder(parent_folder(path_));
}

}  // namespace pplug::detail
