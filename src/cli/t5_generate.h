// pplug generate for T5 encoder-decoders: greedy decoding of a prompt through the encoder.
// Sampling, beam search, stop strings, streaming and the plug-in come with the model interface
// shared with the decoder-only models (issue 11); until then they are refused, not ignored.
#pragma once

#include <cstdint>
#include <string>

namespace pplug::cli {

struct T5GenerateRequest {
  std::string model, tokenizer, prompt, dtype;
  int64_t max_new_tokens = 64;
  bool print_ids = false;  // last line: encoder input ids, then the generated ids
};

void run_t5_generate(const T5GenerateRequest& request);

}  // namespace pplug::cli
