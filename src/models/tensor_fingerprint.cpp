#include "models/tensor_fingerprint.h"

#include <ATen/ATen.h>

#include "util/hash.h"

namespace pplug::detail {

std::string fingerprint_tensors(const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                                const std::string& salt) {
  constexpr int64_t kSamples = 65536;
  Hasher h;
  h.text(salt);
  for (const auto& [name, tensor] : tensors) {
    h.text(name);
    for (int64_t d : tensor.sizes()) h.u64(static_cast<uint64_t>(d));
    auto flat = tensor.detach().reshape({-1});
    if (flat.numel() > kSamples) {
      auto index = at::linspace(0, static_cast<double>(flat.numel() - 1), kSamples, at::kDouble)
                       .to(at::kLong);
      flat = flat.index_select(0, index);
    }
    auto sample = flat.to(at::kBFloat16).contiguous();
    h.bytes(sample.data_ptr(), sample.numel() * sample.element_size());
  }
  return h.hex();
}

std::string fingerprint_model(const LlamaConfig& c,
                              const std::vector<std::pair<std::string, torch::Tensor>>& weights) {
  const std::string salt =
      "llama:" + std::to_string(c.hidden_size) + ":" + std::to_string(c.intermediate_size) + ":" +
      std::to_string(c.num_hidden_layers) + ":" + std::to_string(c.num_attention_heads) + ":" +
      std::to_string(c.num_key_value_heads) + ":" + std::to_string(c.vocab_size);
  // What changes the computation without changing the tensors; added only when not the plain
  // Llama default, so the fingerprints of plain Llama models stay what they were.
  std::string variant;
  if (c.explicit_head_dim > 0) variant += ":head_dim=" + std::to_string(c.explicit_head_dim);
  if (!c.rope_scaling_type.empty()) {
    variant += ":rope=" + c.rope_scaling_type + "/" + std::to_string(c.rope_scaling_factor) + "/" +
               std::to_string(c.rope_low_freq_factor) + "/" +
               std::to_string(c.rope_high_freq_factor) + "/" +
               std::to_string(c.rope_original_max_position_embeddings);
  }
  if (c.rope_theta != 10000.0) variant += ":theta=" + std::to_string(c.rope_theta);
  if (!c.rope_freq_factors.empty()) {
    Hasher factors;
    factors.bytes(c.rope_freq_factors.data(), c.rope_freq_factors.size() * sizeof(float));
    variant += ":rope_freqs=" + factors.hex();
  }
  if (c.hidden_act != "silu") variant += ":act=" + c.hidden_act;
  if (c.embedding_multiplier != 1.0)
    variant += ":embed_x=" + std::to_string(c.embedding_multiplier);
  return fingerprint_tensors(weights, salt + variant);
}

}  // namespace pplug::detail
