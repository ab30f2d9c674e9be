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

AtomicFileWriter::AtomicFileWriter(std::string path) : path_(std::move(path)) {
  std::random_device rd;
  tmp_ = path_ + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(rd());
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(tmp_ + ": cannot create: " + std::strerror(errno));
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_.c_str());
  }
}

void AtomicFileWriter::append(std::string_view data) {
  if (fd_ < 0) throw Error(path_ + ": write after commit");
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(tmp_ + ": write failed: " + std::strerror(errno));
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
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const std::string reason = std::strerror(errno);
    ::unlink(tmp_.c_str());
    throw Error(tmp_ + ": flush failed: " + reason);
  }
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    ::unlink(tmp_.c_str());
    throw Error(path_ + ": cannot rename temporary file into place: " + reason);
  }
}

}  // namespace pplug::detail
