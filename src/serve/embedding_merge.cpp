#include "serve/embedding_merge.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "pplug/error.h"
#include "pplug/safetensors.h"

namespace pplug::serve {

UserEmbedding append_embedding(const UserEmbedding& old, const UserEmbedding& added,
                               int64_t max_items) {
  if (added.num_items() == 0) return old;
  if (old.num_items() == 0 && added.num_items() <= max_items) return added;
  if (old.num_items() > 0 && (old.encoder_fingerprint() != added.encoder_fingerprint() ||
                              old.plugin_fingerprint() != added.plugin_fingerprint())) {
    throw InvalidArgument("append_embedding: the embeddings come from different plug-ins (" +
                          old.plugin_fingerprint() + " and " + added.plugin_fingerprint() + ")");
  }
  std::vector<std::string> ids = old.item_ids();
  ids.insert(ids.end(), added.item_ids().begin(), added.item_ids().end());
  torch::Tensor vectors = added.item_vectors(), projections = added.item_projections();
  if (old.num_items() > 0) {
    vectors = at::cat({old.item_vectors(), vectors});              // (N_old + N_new, d_e)
    projections = at::cat({old.item_projections(), projections});  // (N_old + N_new, n_p d)
  }
  const int64_t total = vectors.size(0);
  const int64_t drop = std::max<int64_t>(0, total - max_items);
  ids.erase(ids.begin(), ids.begin() + drop);
  // UserEmbedding has no public constructor from tensors; its documented byte form (format
  // pplug-user-embedding, docs/plugin.md) is the one way in, and it re-validates everything.
  const std::map<std::string, std::string> meta = {
      {"format", "pplug-user-embedding"},
      {"format_version", "1"},
      {"item_ids", nlohmann::json(ids).dump()},
      {"encoder_fingerprint", added.encoder_fingerprint()},
      {"plugin_fingerprint", added.plugin_fingerprint()}};
  const std::string bytes =
      serialize_safetensors({{"item_vectors", vectors.slice(0, drop).contiguous()},
                             {"item_projections", projections.slice(0, drop).contiguous()}},
                            meta);
  return UserEmbedding::from_bytes(bytes, "appended user embedding");
}

}  // namespace pplug::serve
