#include "serve/user_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

#include "pplug/error.h"
#include "serve/user_id.h"
#include "util/file_io.h"
#include "util/hash.h"

namespace pplug::serve {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kFormat = "pplug-user-store";
constexpr int kVersion = 1;

// The whole file, or nothing when it does not exist (a user without a record).
std::optional<std::string> read_if_exists(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw FormatError(path + ": cannot open for reading: " + std::strerror(errno));
  }
  std::string out;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string reason = std::strerror(errno);
      ::close(fd);
      throw FormatError(path + ": read failed: " + reason);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

std::string describe(const StoreIdentity& id) {
  return "plug-in " + id.plugin_fingerprint + ", encoder " + id.encoder_fingerprint + ", LLM " +
         id.llm_fingerprint;
}

}  // namespace

StoreIdentity store_identity(const PersonaPlug& plug) {
  return {plug.fingerprint(), plug.encoder().fingerprint(), plug.language_model().fingerprint()};
}

UserStore::UserStore(std::string dir, StoreIdentity identity, size_t cache_users,
                     EmbeddingStorage storage)
    : dir_(std::move(dir)),
      identity_(std::move(identity)),
      storage_(std::move(storage)),
      cache_(cache_users) {
  UserEmbedding().to_bytes(storage_);  // refuses an unknown vector type before anything is written
  open_manifest();
}

void UserStore::open_manifest() {
  const std::string manifest = dir_ + "/manifest.json";
  std::error_code ec;
  if (fs::exists(dir_, ec) && !fs::is_directory(dir_, ec)) {
    throw InvalidArgument("--store " + dir_ + ": exists and is not a folder");
  }
  const auto text = read_if_exists(manifest);
  if (!text) {
    if (fs::exists(dir_, ec) && !fs::is_empty(dir_, ec)) {
      throw InvalidArgument("--store " + dir_ +
                            ": a non-empty folder without manifest.json is not a pplug user store");
    }
    fs::create_directories(dir_ + "/users");
    const json doc = {{"format", kFormat},
                      {"format_version", kVersion},
                      {"plugin_fingerprint", identity_.plugin_fingerprint},
                      {"encoder_fingerprint", identity_.encoder_fingerprint},
                      {"llm_fingerprint", identity_.llm_fingerprint}};
    detail::write_file_atomic(manifest, doc.dump(2) + "\n");
    return;
  }
  StoreIdentity found;
  try {
    const json doc = json::parse(*text);
    if (doc.at("format").get<std::string>() != kFormat) {
      throw FormatError(manifest + ": not a pplug user store (format " + doc.at("format").dump() +
                        ")");
    }
    if (doc.at("format_version").get<int>() != kVersion) {
      throw FormatError(manifest + ": unsupported format_version " +
                        doc.at("format_version").dump());
    }
    found.plugin_fingerprint = doc.at("plugin_fingerprint").get<std::string>();
    found.encoder_fingerprint = doc.at("encoder_fingerprint").get<std::string>();
    found.llm_fingerprint = doc.at("llm_fingerprint").get<std::string>();
  } catch (const json::exception& e) {
    throw FormatError(manifest + ": malformed store manifest: " + e.what());
  }
  if (found.plugin_fingerprint != identity_.plugin_fingerprint ||
      found.encoder_fingerprint != identity_.encoder_fingerprint ||
      found.llm_fingerprint != identity_.llm_fingerprint) {
    throw MismatchError("--store " + dir_ + " was made for " + describe(found) +
                        "; this server runs " + describe(identity_) +
                        ": its embeddings are not valid here (use another --store)");
  }
  fs::create_directories(dir_ + "/users");
}

std::string UserStore::user_path(const std::string& id) const {
  validate_user_id(id);
  detail::Hasher h;
  h.text(id);
  const std::string hex = h.hex();
  return dir_ + "/users/" + hex.substr(0, 2) + "/" + hex.substr(2, 2) + "/" + id + ".user";
}

std::mutex& UserStore::user_mutex(const std::string& id) {
  detail::Hasher h;
  h.text(id);
  return stripes_[h.digest() % kStripes];
}

std::shared_ptr<const UserRecord> UserStore::get(const std::string& id) {
  const std::string path = user_path(id);
  uint64_t epoch;
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (const auto* hit = cache_.find(id)) {
      ++hits_;
      return *hit;
    }
    epoch = epoch_;
  }
  ++misses_;
  const auto bytes = read_if_exists(path);
  if (!bytes) return nullptr;
  auto record = std::make_shared<const UserRecord>(decode_user_record(*bytes, id, path));
  if (record->embedding.plugin_fingerprint() != identity_.plugin_fingerprint ||
      record->embedding.encoder_fingerprint() != identity_.encoder_fingerprint) {
    throw FormatError(path + ": embedding of plug-in " + record->embedding.plugin_fingerprint() +
                      " in a store of plug-in " + identity_.plugin_fingerprint);
  }
  std::lock_guard<std::mutex> lock(cache_mutex_);
  // A write since the read started may have made this record stale: then it is not cached.
  if (epoch == epoch_) cache_.put(id, record);
  return record;
}

void UserStore::write_record(const std::string& id, const std::string& bytes) {
  const fs::path path = user_path(id);
  fs::create_directories(path.parent_path());
  detail::write_file_atomic(path.string(), bytes);
  ++writes_;
}

void UserStore::put(const std::string& id, std::shared_ptr<const UserRecord> record) {
  const std::string bytes = encode_user_record(id, *record, storage_);
  write_record(id, bytes);
  const EmbeddingStorage full;
  if (storage_.vectors != full.vectors || storage_.projections != full.projections) {
    record = std::make_shared<const UserRecord>(decode_user_record(bytes, id, user_path(id)));
  }
  std::lock_guard<std::mutex> lock(cache_mutex_);
  ++epoch_;
  cache_.put(id, std::move(record));
}

bool UserStore::remove(const std::string& id) {
  const std::string path = user_path(id);
  const bool removed = ::unlink(path.c_str()) == 0;
  if (!removed && errno != ENOENT) {
    throw Error(path + ": cannot remove: " + std::strerror(errno));
  }
  std::lock_guard<std::mutex> lock(cache_mutex_);
  ++epoch_;
  cache_.erase(id);
  return removed;
}

size_t UserStore::cached_users() {
  std::lock_guard<std::mutex> lock(cache_mutex_);
  return cache_.size();
}

}  // namespace pplug::serve
