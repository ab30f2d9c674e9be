// UserEmbedding bytes (parse_user_embedding_record: the safetensors header, the metadata, item
// ids, the item tensors' dtypes and shapes), as UserEmbedding::from_bytes validates them before
// building tensors. Accepted with ids: item_vectors has one row per id and every tensor's byte
// range lies inside the input.
#include <cstdio>
#include <cstdlib>

#include "format/user_embedding_record.h"
#include "fuzz_support.h"

using namespace pplug;

namespace {

[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "pplug fuzz: accepted user embedding breaks an invariant: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::quiet_logs();
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  fuzz::expect_documented([&] {
    const detail::UserEmbeddingRecord r = detail::parse_user_embedding_record(bytes, "fuzz");
    for (const auto& [name, e] : r.header.tensors) {
      if (r.header.data_offset + e.end > size || e.begin > e.end) broken("byte range");
    }
    if (r.item_ids.empty()) return;
    const auto& v = r.header.tensors.at("item_vectors");
    if (v.shape.size() != 2 || v.shape[0] != static_cast<int64_t>(r.item_ids.size())) {
      broken("one item_vectors row per id");
    }
    if (!r.compact && !r.has_projections) broken("version 1 has projections");
  });
  return 0;
}
