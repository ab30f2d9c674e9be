// Greedy generation with a T5 encoder-decoder: the encoder runs once per request, the decoder
// starts from decoder_start_token_id (HF: the pad id) and stops at EOS or max_new_tokens.
// Sampling, beam search and stop strings come with the model interface shared with Llama.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "pplug/t5_model.h"

namespace pplug {

struct T5GenerationOptions {
  int64_t max_new_tokens = 64;  // decoder tokens generated at most per row (EOS included)
};

// From encoder input embeddings (B, S, d) (token rows, soft tokens, or both) and their mask
// (B, S) 1 = real (undefined = all real). Returns each row's generated ids, without the decoder
// start token, ending with EOS when it was produced.
std::vector<std::vector<int64_t>> t5_generate_greedy(const T5Model& model,
                                                     const torch::Tensor& inputs_embeds,
                                                     const torch::Tensor& attention_mask,
                                                     const T5GenerationOptions& options = {});

// From token ids, one list per request (lengths may differ: they are right-padded with the pad
// id and masked).
std::vector<std::vector<int64_t>> t5_generate_greedy(
    const T5Model& model, const std::vector<std::vector<int64_t>>& input_ids,
    const T5GenerationOptions& options = {});

}  // namespace pplug
