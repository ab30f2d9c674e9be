// The names of PluginConfig's enums (include/pplug/plugin_config.h), as manifests and the CLI
// spell them.
#include "pplug/plugin_config.h"

#include "pplug/error.h"

namespace pplug {

const char* to_string(AggregatorKind kind) {
  switch (kind) {
    case AggregatorKind::kAttention:
      return "attention";
    case AggregatorKind::kLearnedTemperature:
      return "learned-temperature";
    case AggregatorKind::kMean:
      return "mean";
  }
  return "attention";
}

AggregatorKind parse_aggregator(const std::string& name) {
  if (name == "attention") return AggregatorKind::kAttention;
  if (name == "learned-temperature") return AggregatorKind::kLearnedTemperature;
  if (name == "mean") return AggregatorKind::kMean;
  throw InvalidArgument("unknown aggregator '" + name +
                        "' (expected attention, learned-temperature or mean)");
}

const char* to_string(AttentionScores scores) {
  return scores == AttentionScores::kCosine ? "cosine" : "standardized";
}

AttentionScores parse_attention_scores(const std::string& name) {
  if (name == "cosine") return AttentionScores::kCosine;
  if (name == "standardized") return AttentionScores::kStandardized;
  throw InvalidArgument("unknown attention scores '" + name +
                        "' (expected cosine or standardized)");
}

const char* to_string(SoftTokenPlacement placement) {
  return placement == SoftTokenPlacement::kAfterBos ? "after-bos" : "before-answer";
}

SoftTokenPlacement parse_placement(const std::string& name) {
  if (name == "after-bos") return SoftTokenPlacement::kAfterBos;
  if (name == "before-answer") return SoftTokenPlacement::kBeforeAnswer;
  throw InvalidArgument("unknown soft-token placement '" + name +
                        "' (expected after-bos or before-answer)");
}

const char* to_string(InputEncoder kind) {
  return kind == InputEncoder::kAdapter ? "adapter" : "copy";
}

InputEncoder parse_input_encoder(const std::string& name) {
  if (name == "adapter") return InputEncoder::kAdapter;
  if (name == "copy") return InputEncoder::kCopy;
  throw InvalidArgument("unknown input encoder '" + name + "' (expected adapter or copy)");
}

const char* to_string(QuerySource source) {
  return source == QuerySource::kEncoder ? "encoder" : "prompt";
}

QuerySource parse_query_source(const std::string& name) {
  if (name == "encoder") return QuerySource::kEncoder;
  if (name == "prompt") return QuerySource::kPrompt;
  throw InvalidArgument("unknown query source '" + name + "' (expected encoder or prompt)");
}

}  // namespace pplug
