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
  std::vector<int64_t> items;  // rows of TrainData::item_vectors (the kept history); -1 each
                               // when the example belongs to another rank
  std::vector<int> prompt;     // LLM prompt ids (after BOS and the soft tokens); empty when
                               // the example belongs to another rank
  std::vector<int> target;     // target ids, EOS included
  bool local = true;           // this rank trains on it (its question is this rank's)
};

// Which questions a rank of a data-parallel run owns: question q belongs to rank q % world.
// A rank encodes and keeps only its own questions' items, inputs and prompt starts, so that
// memory per rank shrinks with the number of ranks; every rank knows every example's target
// length, which normalizes the loss of a global batch.
struct Shard {
  int rank = 0;
  int world = 1;
  bool owns(size_t question) const { return static_cast<int>(question % world) == rank; }
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

// The examples of every question (so that every rank sees the same order and history-dropout
// copies), with the frozen vectors and prompts of `shard`'s questions only.
TrainData prepare_train_data(const PersonaPlug& plug, const LabelledSplit& split,
                             const TrainOptions& options, const Shard& shard = {});

}  // namespace pplug::detail
