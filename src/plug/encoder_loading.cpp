// Picks the history encoder from a path: the frozen LLM, or a BERT folder with BGE defaults.
#include "pplug/error.h"
#include "pplug/model_io.h"
#include "pplug/sentence_encoder.h"

namespace pplug {

std::shared_ptr<SentenceEncoder> load_sentence_encoder(
    const std::string& encoder_dir, const LoadedModel& llm,
    std::optional<TextEncoderOptions> bert_options) {
  if (encoder_dir.empty() || encoder_dir == "llm" || encoder_dir == "llm:last") {
    if (!llm.model) throw InvalidArgument("load_sentence_encoder: no LLM loaded");
    if (!llm.tokenizer) {
      throw InvalidArgument("load_sentence_encoder: the LLM encoder needs the tokenizer of '" +
                            llm.weights_path + "' (the model was loaded without one)");
    }
    LlmEncoderOptions llm_options;
    if (encoder_dir == "llm:last") llm_options.pooling = LlmEncoderOptions::Pooling::kLast;
    return make_llm_encoder(llm.model, llm.tokenizer, llm_options);
  }
  TextEncoderOptions options;
  if (bert_options) {
    options = *bert_options;
  } else {
    options.pooling = TextEncoderOptions::Pooling::kCls;
    options.normalize = true;
    options.query_instruction = "Represent this sentence for searching relevant passages: ";
  }
  return make_bert_encoder(BertEncoder::load(encoder_dir, options));
}

}  // namespace pplug
