// write_random_bert: a BERT folder with freshly initialised weights (benchmarks, tests).
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/utils.h>

#include "models/bert/bert_folder.h"
#include "models/bert/bert_model.h"
#include "pplug/text_encoder.h"
#include "pplug/wordpiece.h"

namespace pplug {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

void write_random_bert(const std::string& dir, const BertShape& shape,
                       const std::string& vocab_path, uint64_t seed) {
  const WordPieceTokenizer vocab(vocab_path);  // validates the file
  bert::BertConfig config;
  config.vocab_size = vocab.vocab_size();
  config.hidden_size = shape.hidden_size;
  config.num_hidden_layers = shape.num_hidden_layers;
  config.num_attention_heads = shape.num_attention_heads;
  config.intermediate_size = shape.intermediate_size;
  config.max_position_embeddings = shape.max_position_embeddings;
  config.validate("write_random_bert");
  bert::BertModel model(config);

  // BERT's initialisation (HF BertPreTrainedModel._init_weights), from a private generator so
  // the global torch seed is neither used nor changed.
  at::Generator generator = at::detail::createCPUGenerator(seed);
  {
    torch::NoGradGuard no_grad;
    for (auto& item : model->named_parameters()) {
      if (ends_with(item.key(), "LayerNorm.weight")) {
        item.value().fill_(1.0);
      } else if (ends_with(item.key(), ".bias")) {
        item.value().zero_();
      } else {
        item.value().normal_(0.0, 0.02, generator);
      }
    }
  }
  bert::write_bert_folder(dir, *model, vocab_path, vocab.lowercase());
}

}  // namespace pplug
