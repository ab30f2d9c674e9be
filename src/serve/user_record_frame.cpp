#include "serve/user_record_frame.h"

#include <nlohmann/json.hpp>

#include <cstring>

#include "pplug/error.h"
#include "serve/history_json.h"
#include "util/hash.h"

namespace pplug::serve {
namespace {

constexpr char kMagic[8] = {'P', 'P', 'L', 'U', 'G', 'U', 'S', 'R'};
constexpr uint32_t kVersion = 1;

// x86-64 and aarch64 Linux are little-endian, the only targets pplug builds for.
template <typename T>
void put(std::string& out, T value) {
  char buf[sizeof(T)];
  std::memcpy(buf, &value, sizeof(T));
  out.append(buf, sizeof(T));
}

uint64_t checksum(const char* data, size_t n) {
  detail::Hasher h;
  h.bytes(data, n);
  return h.digest();
}

class Reader {
 public:
  Reader(const std::string& bytes, const std::string& source) : bytes_(bytes), source_(source) {}
  template <typename T>
  T get(const char* what) {
    T value;
    std::memcpy(&value, take(sizeof(T), what), sizeof(T));
    return value;
  }
  std::string_view text(uint64_t n, const char* what) {
    const char* p = take(n, what);
    return std::string_view(p, n);
  }
  size_t offset() const { return at_; }

 private:
  const char* take(uint64_t n, const char* what) {
    if (n > bytes_.size() - at_) {
      throw FormatError(source_ + ": user record truncated in " + what + " (" +
                        std::to_string(bytes_.size()) + " bytes)");
    }
    const char* p = bytes_.data() + at_;
    at_ += n;
    return p;
  }
  const std::string& bytes_;
  const std::string& source_;
  size_t at_ = 0;
};

}  // namespace

std::string frame_user_record(const std::string& user_id,
                              const std::vector<lamp::ProfileItem>& items,
                              std::string_view embedding) {
  const nlohmann::json header = {{"user", user_id}, {"items", history_items_to_json(items)}};
  const std::string head = header.dump();
  std::string out(kMagic, sizeof(kMagic));
  put<uint32_t>(out, kVersion);
  put<uint64_t>(out, head.size());
  out += head;
  put<uint64_t>(out, embedding.size());
  out += embedding;
  put<uint64_t>(out, checksum(out.data(), out.size()));
  return out;
}

UserRecordFrame parse_user_record_frame(const std::string& bytes, const std::string& user_id,
                                        const std::string& source) {
  Reader in(bytes, source);
  if (in.text(sizeof(kMagic), "the magic") != std::string_view(kMagic, sizeof(kMagic))) {
    throw FormatError(source + ": not a pplug user record");
  }
  const auto version = in.get<uint32_t>("the version");
  if (version != kVersion) {
    throw FormatError(source + ": unsupported user record version " + std::to_string(version));
  }
  const std::string_view head = in.text(in.get<uint64_t>("the header length"), "the header");
  UserRecordFrame frame;
  frame.embedding = in.text(in.get<uint64_t>("the embedding length"), "the embedding");
  const size_t body = in.offset();
  if (in.get<uint64_t>("the checksum") != checksum(bytes.data(), body) ||
      in.offset() != bytes.size()) {
    throw FormatError(source + ": user record checksum mismatch (file damaged)");
  }
  try {
    const auto header = nlohmann::json::parse(head);
    if (header.at("user").get<std::string>() != user_id) {
      throw FormatError(source + ": record of user '" + header.at("user").get<std::string>() +
                        "', expected '" + user_id + "'");
    }
    frame.items = history_items_from_json(header.at("items"), source);
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(source + ": malformed user record header: " + e.what());
  }
  return frame;
}

}  // namespace pplug::serve
