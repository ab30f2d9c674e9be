// Batched soft-token computation for inference.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "plug/plugin_impl.h"
#include "pplug/error.h"

namespace pplug {

detail::SoftTokens PersonaPlug::Impl::soft_tokens_batch(
    const PersonaPlug& plug, const std::vector<UserRequest>& requests) const {
  std::vector<std::string> inputs;
  inputs.reserve(requests.size());
  for (const auto& r : requests) inputs.push_back(r.input);
  return soft_tokens_batch(plug, requests, plug.query_vectors(inputs));
}

detail::SoftTokens PersonaPlug::Impl::soft_tokens_batch(const PersonaPlug& plug,
                                                        const std::vector<UserRequest>& requests,
                                                        const torch::Tensor& query_vectors) const {
  c10::InferenceMode guard;
  const auto B = static_cast<int64_t>(requests.size());
  const int64_t de = plug.config().encoder_dim;
  const int64_t pd = plug.config().num_persona_tokens * plug.config().llm_dim;
  const std::string encoder_fp = plug.encoder().fingerprint();
  std::string plugin_fp;
  torch::Tensor instruction;
  {
    std::lock_guard<std::mutex> lock(mutex);
    plugin_fp = fingerprint;
    instruction = instruction_token;
  }
  if (query_vectors.dim() != 2 || query_vectors.size(0) != B || query_vectors.size(1) != de) {
    throw InvalidArgument("soft tokens: query vectors must have shape (" + std::to_string(B) +
                          ", " + std::to_string(de) + ")");
  }
  int64_t longest = 1;
  for (int64_t b = 0; b < B; ++b) {
    const UserEmbedding* user = requests[b].user;
    if (user == nullptr) throw InvalidArgument("request " + std::to_string(b) + " has no user");
    if (user->num_items() > 0 && user->encoder_fingerprint() != encoder_fp) {
      throw MismatchError("user embedding of request " + std::to_string(b) +
                          " was made with encoder " + user->encoder_fingerprint() +
                          ", this plug-in uses " + encoder_fp + "; embed the user again");
    }
    if (user->num_items() > 0 && user->item_vectors().size(1) != de) {
      throw MismatchError("user embedding of request " + std::to_string(b) + " has " +
                          std::to_string(user->item_vectors().size(1)) +
                          "-d item vectors, the encoder makes " + std::to_string(de));
    }
    longest = std::max(longest, user->num_items());
  }
  // Embeddings made by another version of this plug-in (same encoder) stay usable: only the
  // projections depend on the plug-in weights, and they are cheap to redo. A compact form
  // stored without projections (EmbeddingStorage) has them redone here, at every query.
  auto projections_of = [&](const UserEmbedding& user) {
    return user.plugin_fingerprint() == plugin_fp && user.item_projections().defined()
               ? user.item_projections()
               : module->project_items(user.item_vectors());
  };
  if (B == 1 && requests[0].user->num_items() > 0) {  // one user: no padding, no copies
    const UserEmbedding& user = *requests[0].user;
    return module->forward(user.item_keys().unsqueeze(0), projections_of(user).unsqueeze(0),
                           at::ones({1, user.num_items()}, at::kBool), query_vectors, instruction);
  }
  auto keys = at::zeros({B, longest, de});
  auto projections = at::zeros({B, longest, pd});
  auto mask = at::zeros({B, longest}, at::kBool);
  for (int64_t b = 0; b < B; ++b) {
    const UserEmbedding& user = *requests[b].user;
    const int64_t n = user.num_items();
    if (n == 0) continue;
    keys[b].narrow(0, 0, n).copy_(user.item_keys());
    projections[b].narrow(0, 0, n).copy_(projections_of(user));
    mask[b].narrow(0, 0, n).fill_(true);
  }
  return module->forward(keys, projections, mask, query_vectors, instruction);
}

}  // namespace pplug
