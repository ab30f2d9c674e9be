// The persistent per-user embedding store of `pplug serve` (docs/serving.md):
//   DIR/manifest.json                 the plug-in, encoder and LLM the store was made for
//   DIR/users/ab/cd/<id>.user         one record per user (user_record.h), ab/cd from a hash of
//                                     the id, so a million users make ~15 files per folder
// Every write is a temporary file + fsync + rename: after a kill -9 at any moment each user is
// at its old or its new version. A bounded LRU keeps hot users in memory.
//
// Thread safety: every method may be called from any thread. Writers of one user (read, change,
// write back) serialise themselves with user_mutex(id).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "serve/lru_cache.h"
#include "serve/user_record.h"

namespace pplug::serve {

// What a store's embeddings are valid for.
struct StoreIdentity {
  std::string plugin_fingerprint;
  std::string encoder_fingerprint;
  std::string llm_fingerprint;
};

// The identity of the embeddings `plug` makes.
StoreIdentity store_identity(const PersonaPlug& plug);

class UserStore {
 public:
  // Opens DIR (creating it, and its manifest, when absent or empty). Throws MismatchError naming
  // both sides when the manifest records another plug-in, encoder or LLM; FormatError for a
  // damaged manifest; InvalidArgument when DIR is a file or a non-empty folder of something else.
  // `storage`: how records are written (EmbeddingStorage); records of every form are read.
  UserStore(std::string dir, StoreIdentity identity, size_t cache_users = 1024,
            EmbeddingStorage storage = {});

  // The user's record, or nullptr when the user has none. FormatError for a damaged file.
  std::shared_ptr<const UserRecord> get(const std::string& id);
  // Writes the record (atomically) and caches it as a later get() would read it back (a
  // compact storage rounds the vectors), so a restart serves the very same embeddings.
  void put(const std::string& id, std::shared_ptr<const UserRecord> record);
  // Writes already encoded record bytes (encode_user_record) atomically, without caching: the
  // file-level step of put(), also what a writer that must not touch libtorch uses (tests).
  void write_record(const std::string& id, const std::string& bytes);
  // Removes the user; false when there was none.
  bool remove(const std::string& id);

  // The lock a read-modify-write of one user holds (striped: ids may share one).
  std::mutex& user_mutex(const std::string& id);
  // The record file of a (validated) user id.
  std::string user_path(const std::string& id) const;

  const std::string& dir() const { return dir_; }
  const StoreIdentity& identity() const { return identity_; }
  const EmbeddingStorage& storage() const { return storage_; }
  size_t cached_users();
  uint64_t cache_hits() const { return hits_; }
  uint64_t cache_misses() const { return misses_; }
  uint64_t writes() const { return writes_; }

 private:
  void open_manifest();

  std::string dir_;
  StoreIdentity identity_;
  EmbeddingStorage storage_;
  std::mutex cache_mutex_;
  LruCache<std::shared_ptr<const UserRecord>> cache_;
  uint64_t epoch_ = 0;  // bumped by every write or removal (under cache_mutex_)
  static constexpr size_t kStripes = 64;
  std::mutex stripes_[kStripes];
  std::atomic<uint64_t> hits_{0}, misses_{0}, writes_{0};
};

}  // namespace pplug::serve
