// The bytes of a UserEmbedding (UserEmbedding::to_bytes / from_bytes): safetensors whose
// __metadata__ holds format "pplug-user-embedding", format_version, the item ids (a JSON array
// of strings) and the fingerprints of the plug-in and encoder, and whose tensors are
// item_vectors (N, d) in F32, BF16 or I8 (+ item_vectors_scale (N)), item_projections (N, e)
// and item_keys (like item_vectors). Parsed and validated without libtorch: from_bytes builds
// tensors only from a record this accepted, and checks their values (finite) itself.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "format/safetensors_header.h"

namespace pplug::detail {

constexpr const char* kUserEmbeddingFormat = "pplug-user-embedding";
constexpr int kUserEmbeddingVersion = 1;         // f32 item vectors and their projections
constexpr int kUserEmbeddingCompactVersion = 2;  // bf16 / int8 vectors, or no projections

struct UserEmbeddingRecord {
  SafetensorsHeader header;  // the tensors' dtypes, shapes and byte ranges
  bool compact = false;      // format_version 2
  std::string encoder_fingerprint;
  std::string plugin_fingerprint;
  std::vector<std::string> item_ids;  // unique ("" = an item without an id); N rows
  // With item ids, item_vectors is present and valid; these say which of the others are.
  bool has_projections = false;
  bool has_keys = false;
};

// Parses and validates `bytes`; FormatError naming `source` (the file) and the field or tensor.
// With no item ids the tensors are not looked at (an empty embedding).
UserEmbeddingRecord parse_user_embedding_record(const std::string& bytes,
                                                const std::string& source);

// Throws FormatError naming `source` and the id when a non-empty item id appears twice (items
// without an id, "", may repeat).
void require_unique_item_ids(const std::vector<std::string>& ids, const std::string& source);

}  // namespace pplug::detail
