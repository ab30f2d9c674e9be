// One user of the store: the raw history items (so an append encodes only the new ones) and
// their embedding, in one file so that a crash can never pair one version's items with
// another's vectors.
#pragma once

#include <string>
#include <vector>

#include "pplug/persona_plug.h"

namespace pplug::serve {

struct UserRecord {
  std::vector<HistoryItem> items;  // the history the embedding holds, oldest first (row i)
  UserEmbedding embedding;         // rows aligned with `items`
};

// The file: a frame (user_record_frame.h: magic, version, the items as JSON, a checksum)
// around UserEmbedding::to_bytes().
// `storage`: how compact the embedding is stored (bf16 / int8 vectors, projections left out).
std::string encode_user_record(const std::string& user_id, const UserRecord& record,
                               const EmbeddingStorage& storage = {});
// Throws FormatError naming `source` for a damaged file or one written for another user id.
UserRecord decode_user_record(const std::string& bytes, const std::string& user_id,
                              const std::string& source);

}  // namespace pplug::serve
