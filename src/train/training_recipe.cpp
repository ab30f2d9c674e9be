#include "pplug/training_recipe.h"

#include "io/llama2c_probe.h"
#include "pplug/error.h"
#include "pplug/model_io.h"

namespace pplug {

Recipe parse_recipe(const std::string& name) {
  if (name == "auto") return Recipe::kAuto;
  if (name == "input-aware") return Recipe::kInputAware;
  if (name == "reference") return Recipe::kReference;
  throw InvalidArgument("unknown recipe '" + name + "' (expected auto, input-aware or reference)");
}

const char* to_string(Recipe recipe) {
  switch (recipe) {
    case Recipe::kAuto:
      return "auto";
    case Recipe::kInputAware:
      return "input-aware";
    case Recipe::kReference:
      return "reference";
  }
  return "?";
}

bool llm_pretrained_with_eos(const LoadedModel& llm) {
  return !detail::is_llama2c_checkpoint(llm.weights_path);
}

TrainingRecipe training_recipe(Recipe recipe, const LoadedModel& llm, const std::string& task) {
  const auto lm = language_model_of(llm);
  if (!lm) throw InvalidArgument("training_recipe: no LLM loaded");
  TrainingRecipe r;
  r.recipe = recipe == Recipe::kAuto ? Recipe::kInputAware : recipe;
  r.config.task = task;
  if (r.recipe == Recipe::kReference) {
    // The member defaults are the paper's; its BGE encoder is replaced by the LLM itself,
    // mean-pooled, unless the caller names a BERT folder.
    r.encoder = "llm";
    r.reasons.push_back("reference recipe: the paper's settings");
    return r;
  }
  // The keys (mean-pooled text) find the items about the input, the values (last token, which
  // the item templates end with the item's label) carry what the user did with them; scores
  // standardized per user so that one temperature suits every encoder, learned from a flat start
  // so a task whose trait is the user's overall leaning (rating) can stay flat.
  r.encoder = "llm:last/mean";
  r.config.scores = AttentionScores::kStandardized;
  r.config.aggregator = AggregatorKind::kLearnedTemperature;
  r.config.temperature = 1.0;
  r.config.num_persona_tokens = 2;
  r.config.placement = SoftTokenPlacement::kBeforeAnswer;

  const int64_t width = lm->hidden_size();
  if (width <= kSmallLlmMaxWidth) {
    r.options.lr = 1e-2;
    r.options.epochs = 6;
    r.options.history_dropout_copies = 1;
    r.reasons.push_back("hidden width " + std::to_string(width) +
                        " <= " + std::to_string(kSmallLlmMaxWidth) +
                        ": small-LLM optimizer settings (lr 1e-2, 6 epochs, 1 history-dropout "
                        "copy; measured on stories260K)");
  } else {
    r.reasons.push_back("hidden width " + std::to_string(width) + " > " +
                        std::to_string(kSmallLlmMaxWidth) +
                        ": the paper's optimizer settings (lr 1e-4, 2 epochs)");
  }
  if (!llm_pretrained_with_eos(llm)) {
    r.config.end_with_eos = false;
    r.reasons.push_back(llm.weights_path +
                        " is a llama2.c checkpoint, pretrained without EOS: targets end without "
                        "EOS");
  }
  return r;
}

}  // namespace pplug
