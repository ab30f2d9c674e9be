// Everything a training step needs, computed once before the first step: the frozen encoder's
// vectors of every distinct history text and input, the prompt and target token ids, and the
// history-dropout copies.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "pplug/persona_plug.h"
#include "pplug/trainer.h"

namespace pplug::detail {

struct TrainExample {
  int64_t query = 0;           // row of TrainData::query_vectors
  std::vector<int64_t> items;  // rows of TrainData::item_vectors (the kept history)
  std::vector<int> prompt;     // LLM prompt ids (after BOS and the soft tokens)
  std::vector<int> target;     // target ids, EOS included
};

struct TrainData {
  torch::Tensor item_vectors;  // (distinct history texts, d_e) float32
  torch::Tensor
      item_keys;  // the same rows' keys (ItemVectors), undefined when the encoder has none
  torch::Tensor query_vectors;           // (questions, d_e) float32; undefined with a trainable
                                         // input-encoder copy, which reads query_texts each step
  std::vector<std::string> query_texts;  // per question: query_text(input) (copy only)
  std::vector<TrainExample> examples;    // originals first, then history-dropout copies
};

TrainData prepare_train_data(const PersonaPlug& plug, const LabelledSplit& split,
                             const TrainOptions& options);

}  // namespace pplug::detail
