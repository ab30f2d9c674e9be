// Training recipes: what each one sets, the per-model choices (width, llama2.c checkpoints), and
// that the reference recipe is exactly the paper's defaults of PluginConfig and TrainOptions.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "pplug/error.h"
#include "pplug/training_recipe.h"
#include "support/test_models.h"

namespace pplug {
namespace {

// An in-process model of hidden width `width` (2 layers, 4 heads), not read from any file.
LoadedModel model_of_width(int64_t width) {
  LlamaConfig c = testing::tiny_config();
  c.hidden_size = width;
  const auto raw = random_model(c, 1);
  LoadedModel llm;
  llm.model = std::make_shared<const LlamaModel>(raw.config, raw.weights, torch::kFloat32, "w");
  llm.weights_path = "in-process";
  return llm;
}

TEST(TrainingRecipe, NamesRoundTripAndUnknownNamesAreRefused) {
  for (Recipe r : {Recipe::kAuto, Recipe::kInputAware, Recipe::kReference}) {
    EXPECT_EQ(parse_recipe(to_string(r)), r);
  }
  try {
    parse_recipe("paper");
    FAIL() << "no throw";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("'paper'"), std::string::npos) << e.what();
  }
}

TEST(TrainingRecipe, AutoOnASmallModelIsInputAwareWithTheSmallModelOptimizer) {
  const auto r = training_recipe(Recipe::kAuto, model_of_width(32), "LaMP_2");
  EXPECT_EQ(r.recipe, Recipe::kInputAware);
  EXPECT_EQ(r.encoder, "llm:last/mean");
  EXPECT_EQ(r.config.task, "LaMP_2");
  EXPECT_EQ(r.config.scores, AttentionScores::kStandardized);
  EXPECT_EQ(r.config.aggregator, AggregatorKind::kLearnedTemperature);
  EXPECT_DOUBLE_EQ(r.config.temperature, 1.0);
  EXPECT_EQ(r.config.num_persona_tokens, 2);
  EXPECT_EQ(r.config.placement, SoftTokenPlacement::kBeforeAnswer);
  EXPECT_TRUE(r.config.end_with_eos);  // not a llama2.c file
  EXPECT_DOUBLE_EQ(r.options.lr, 1e-2);
  EXPECT_EQ(r.options.epochs, 6);
  EXPECT_EQ(r.options.history_dropout_copies, 1);
  ASSERT_EQ(r.reasons.size(), 1u);
  EXPECT_NE(r.reasons[0].find("hidden width 32"), std::string::npos) << r.reasons[0];
}

TEST(TrainingRecipe, WideModelsKeepThePapersOptimizerSettings) {
  const auto r = training_recipe(Recipe::kAuto, model_of_width(kSmallLlmMaxWidth + 64), "");
  EXPECT_EQ(r.recipe, Recipe::kInputAware);
  EXPECT_EQ(r.config.num_persona_tokens, 2);  // the input-aware structure is kept
  EXPECT_DOUBLE_EQ(r.options.lr, TrainOptions{}.lr);
  EXPECT_EQ(r.options.epochs, TrainOptions{}.epochs);
  EXPECT_EQ(r.options.history_dropout_copies, 0);
}

TEST(TrainingRecipe, ReferenceIsThePapersDefaults) {
  const auto r = training_recipe(Recipe::kReference, model_of_width(32), "LaMP_3");
  const PluginConfig paper;
  EXPECT_EQ(r.encoder, "llm");
  EXPECT_EQ(r.config.scores, paper.scores);
  EXPECT_EQ(r.config.aggregator, paper.aggregator);
  EXPECT_EQ(r.config.temperature, paper.temperature);
  EXPECT_EQ(r.config.num_persona_tokens, paper.num_persona_tokens);
  EXPECT_EQ(r.config.placement, paper.placement);
  EXPECT_EQ(r.config.end_with_eos, paper.end_with_eos);
  const TrainOptions options;
  EXPECT_EQ(r.options.lr, options.lr);
  EXPECT_EQ(r.options.epochs, options.epochs);
  EXPECT_EQ(r.options.batch_size, options.batch_size);
  EXPECT_EQ(r.options.history_dropout_copies, options.history_dropout_copies);
}

TEST(TrainingRecipe, Llama2cCheckpointsTrainWithoutEosAndTheirHfConversionWith) {
  PPLUG_REQUIRE_SHARED(bin, "stories260K/stories260K.bin");
  LoadedModel llm = load_model(bin, ModelLoadOptions{});
  EXPECT_FALSE(llm_pretrained_with_eos(llm));
  auto r = training_recipe(Recipe::kAuto, llm, "LaMP_3");
  EXPECT_FALSE(r.config.end_with_eos);
  ASSERT_EQ(r.reasons.size(), 2u);
  EXPECT_NE(r.reasons[1].find("llama2.c"), std::string::npos) << r.reasons[1];
  // The file format is what is known: the same weights from another file count as having EOS.
  llm.weights_path = testing::temp_dir("recipe");
  EXPECT_TRUE(llm_pretrained_with_eos(llm));
  // The reference recipe keeps EOS, as the paper does.
  EXPECT_TRUE(training_recipe(Recipe::kReference, load_model(bin, {}), "").config.end_with_eos);
}

TEST(TrainingRecipe, NeedsAModel) {
  EXPECT_THROW(training_recipe(Recipe::kAuto, LoadedModel{}, ""), InvalidArgument);
}

}  // namespace
}  // namespace pplug
