// Sentence vectors from the frozen LLM's final hidden states. Shared by the LLM encoder (history
// items) and by PersonaPlug's prompt-read query, so both land in the same space.
#pragma once

#include <torch/types.h>

#include <vector>

#include "pplug/language_model.h"
#include "pplug/sentence_encoder.h"

namespace pplug::detail {

// hidden (B, T, d) left-padded, mask (B, T) int64 (1 = real) -> (B, d) float32, unit rows.
torch::Tensor pool_hidden(const torch::Tensor& hidden, const torch::Tensor& mask,
                          LlmEncoderOptions::Pooling pooling);

// Runs `model` over each id sequence (framed by the caller: BOS, </s>), `batch_size` sequences per
// pass, similar lengths together, and pools: (N, d) float32 in the order given. No autograd.
torch::Tensor encode_token_ids(const LanguageModel& model, const std::vector<std::vector<int>>& ids,
                               LlmEncoderOptions::Pooling pooling, int batch_size);
// The same with several poolings of one forward pass: one (N, d) tensor per pooling.
std::vector<torch::Tensor> encode_token_ids(const LanguageModel& model,
                                            const std::vector<std::vector<int>>& ids,
                                            const std::vector<LlmEncoderOptions::Pooling>& poolings,
                                            int batch_size);

}  // namespace pplug::detail
