#include "serve/user_record.h"

#include "pplug/error.h"
#include "serve/user_record_frame.h"

namespace pplug::serve {

std::string encode_user_record(const std::string& user_id, const UserRecord& record,
                               const EmbeddingStorage& storage) {
  return frame_user_record(user_id, record.items, record.embedding.to_bytes(storage));
}

UserRecord decode_user_record(const std::string& bytes, const std::string& user_id,
                              const std::string& source) {
  UserRecordFrame frame = parse_user_record_frame(bytes, user_id, source);
  UserRecord record;
  record.items = std::move(frame.items);
  record.embedding = UserEmbedding::from_bytes(std::string(frame.embedding), source);
  if (static_cast<int64_t>(record.items.size()) != record.embedding.num_items()) {
    throw FormatError(source + ": " + std::to_string(record.items.size()) + " history items but " +
                      std::to_string(record.embedding.num_items()) + " embedding rows");
  }
  return record;
}

}  // namespace pplug::serve
