// The frame of a user record file, without libtorch (so it is fuzzed: tests/fuzz): magic,
// version, the header JSON (user id and history items), the embedding's bytes and a checksum.
// user_record.h turns the embedding bytes into a UserEmbedding.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pplug/lamp_data.h"

namespace pplug::serve {

struct UserRecordFrame {
  std::vector<lamp::ProfileItem> items;
  std::string_view embedding;  // UserEmbedding::to_bytes() bytes, a view into the input
};

// The record file (format "pplug-user-record", version 1), all integers little-endian:
//   "PPLUGUSR" | u32 version | u64 n | header JSON (n bytes: {"user": id, "items": [...]})
//   | u64 m | embedding bytes (m bytes) | u64 checksum of everything before it
std::string frame_user_record(const std::string& user_id,
                              const std::vector<lamp::ProfileItem>& items,
                              std::string_view embedding);
// Throws FormatError naming `source` for a damaged frame or one written for another user id.
// The result views `bytes`.
UserRecordFrame parse_user_record_frame(const std::string& bytes, const std::string& user_id,
                                        const std::string& source);

}  // namespace pplug::serve
