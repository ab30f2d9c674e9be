// Picks the history encoder from a path: the frozen LLM, or a BERT folder with BGE defaults.
#include "pplug/error.h"
#include "pplug/model_io.h"
#include "pplug/sentence_encoder.h"

namespace pplug {
namespace {

LlmEncoderOptions::Pooling parse_pooling(const std::string& name, const std::string& spec) {
  if (name == "mean") return LlmEncoderOptions::Pooling::kMean;
  if (name == "last") return LlmEncoderOptions::Pooling::kLast;
  throw InvalidArgument("encoder '" + spec + "': unknown pooling '" + name +
                        "' (expected llm, llm:last, llm:mean or llm:VALUES/KEYS with VALUES and "
                        "KEYS each mean or last)");
}

// "" | "llm" | "llm:P" | "llm:P/K".
LlmEncoderOptions parse_llm_encoder_spec(const std::string& spec) {
  LlmEncoderOptions options;
  if (spec.empty() || spec == "llm") return options;
  const std::string rest = spec.substr(4);
  const size_t slash = rest.find('/');
  options.pooling = parse_pooling(rest.substr(0, slash), spec);
  if (slash != std::string::npos) {
    const auto keys = parse_pooling(rest.substr(slash + 1), spec);
    // Keys pooled like the values would be the values again: no second vector.
    if (keys != options.pooling) options.key_pooling = keys;
  }
  return options;
}

}  // namespace

std::shared_ptr<SentenceEncoder> load_sentence_encoder(
    const std::string& encoder_dir, const LoadedModel& llm,
    std::optional<TextEncoderOptions> bert_options) {
  if (encoder_dir.empty() || encoder_dir == "llm" || encoder_dir.rfind("llm:", 0) == 0) {
    const auto model = language_model_of(llm);
    if (!model) throw InvalidArgument("load_sentence_encoder: no LLM loaded");
    if (!llm.tokenizer) {
      throw InvalidArgument("load_sentence_encoder: the LLM encoder needs the tokenizer of '" +
                            llm.weights_path + "' (the model was loaded without one)");
    }
    return make_llm_encoder(model, llm.tokenizer, parse_llm_encoder_spec(encoder_dir));
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
