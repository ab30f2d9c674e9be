// The plug-in over each Llama-family variant (Qwen2's biases, Qwen3's q/k norms and head_dim,
// Gemma's GeGLU, embedding scale and tied head, Phi-3): a tiny random model of each trains (the
// loss falls), saves, loads and generates the same, and its plug-in is refused by the model of
// another family with the same sizes.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "pplug/error.h"
#include "pplug/text_encoder.h"
#include "pplug/trainer.h"
#include "support/test_models.h"

namespace pplug {
namespace {

LoadedModel family_llm(const std::string& family, const std::string& tok) {
  auto c = testing::tiny_config(512);
  c.model_type = family;
  c.set_family_defaults();
  if (family == "qwen3" || family == "gemma") c.explicit_head_dim = 16;  // q_dim 64 != d 32
  // Weights larger than the usual init give outputs that can be steered (as in trainer_test).
  const auto raw = random_model(c, 1, 0.3);
  LoadedModel llm;
  llm.model = std::make_shared<const LlamaModel>(raw.config, raw.weights);
  llm.tokenizer = std::make_shared<const Tokenizer>(tok);
  llm.weights_path = family;
  return llm;
}

class PluginFamilies : public ::testing::TestWithParam<const char*> {};

TEST_P(PluginFamilies, TrainsSavesLoadsAndGeneratesOverItsModelOnly) {
  const std::string tok = testing::shared_model_path("stories260K/tok512.model");
  if (tok.empty()) GTEST_SKIP() << "../shared/models/stories260K is absent";
  const auto llm = family_llm(GetParam(), tok);
  const auto encoder = make_llm_encoder(llm.model, llm.tokenizer);
  PluginConfig config;
  config.task = "LaMP_2";
  PersonaPlug plug(llm, encoder, config, 3);
  TrainOptions o;
  o.epochs = 6;
  o.lr = 3e-2;
  o.batch_size = 4;
  o.seed = 3;
  o.progress_bar = false;
  o.out_dir = testing::temp_dir(std::string("families_") + GetParam()) + "/run";
  const auto before = llm.model->parameters();
  std::vector<at::Tensor> copies;
  for (const auto& p : before) copies.push_back(p.clone());
  const auto result = train_plugin(plug, testing::two_taste_split(8, 3), o);
  std::cout << GetParam() << " loss " << result.first_loss << " -> " << result.last_loss << "\n";
  // Falls by a fifth or more in 6 epochs (qwen2 0.74, qwen3 0.66, gemma 0.80, phi3 0.56 of the
  // first loss when this was written; Gemma's scaled embeddings leave its soft tokens the least
  // room).
  EXPECT_LT(result.last_loss, 0.85 * result.first_loss);
  for (size_t i = 0; i < before.size(); ++i) EXPECT_TRUE(at::equal(before[i], copies[i])) << i;

  const std::string saved = testing::temp_dir(std::string("families_saved_") + GetParam()) + "/p";
  plug.save(saved);
  const auto loaded = PersonaPlug::load(saved, llm, encoder);
  EXPECT_EQ(loaded->fingerprint(), plug.fingerprint());
  std::vector<HistoryItem> history(2);
  history[0].id = "a";
  history[0].set("description", "a funny clown");
  history[0].set("tag", "comedy");
  history[1].id = "b";
  history[1].set("description", "a sad goodbye");
  history[1].set("tag", "drama");
  GenerationOptions g;
  g.max_new_tokens = 6;
  g.stop_at_eos = false;
  const auto ours = plug.generate(plug.embed_user(history), "a movie", g).generated_ids;
  EXPECT_EQ(ours.size(), 6u);
  EXPECT_EQ(loaded->generate(loaded->embed_user(history), "a movie", g).generated_ids, ours);

  // Same sizes, another family: a different model, so the plug-in is refused.
  const std::string other = std::string(GetParam()) == "qwen2" ? "phi3" : "qwen2";
  const auto other_llm = family_llm(other, tok);
  EXPECT_THROW(
      PersonaPlug::load(saved, other_llm, make_llm_encoder(other_llm.model, other_llm.tokenizer)),
      MismatchError);
}

INSTANTIATE_TEST_SUITE_P(Families, PluginFamilies,
                         ::testing::Values("qwen2", "qwen3", "gemma", "phi3"));

}  // namespace
}  // namespace pplug
