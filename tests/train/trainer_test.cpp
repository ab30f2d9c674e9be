// Training on a tiny random LLM: the loss falls, personalization beats the no-persona ablation,
// the LLM stays frozen, and an interrupted run resumes to the same weights.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "plug/plugin_module.h"
#include "pplug/error.h"
#include "pplug/text_encoder.h"
#include "pplug/trainer.h"
#include "support/test_models.h"

namespace pplug {
namespace {

// Two kinds of users who see the same inputs: the label is only in their histories.
LabelledSplit two_taste_split(int users, int questions_per_user) {
  LabelledSplit split;
  const char* tags[] = {"comedy", "action"};
  const char* words[] = {"a funny clown and a silly cat", "a fast car and a big fight"};
  for (int u = 0; u < users; ++u) {
    const int taste = u % 2;
    for (int qn = 0; qn < questions_per_user; ++qn) {
      lamp::Question q;
      q.id = "u" + std::to_string(u) + "-q" + std::to_string(qn);
      q.input = "Which tag? description: a movie about a dog number " + std::to_string(qn);
      for (int i = 0; i < 4; ++i) {
        HistoryItem item;
        item.id = q.id + "-h" + std::to_string(i);
        item.set("description", std::string(words[taste]) + " in part " + std::to_string(i));
        item.set("tag", tags[taste]);
        q.profile.push_back(item);
      }
      split.golds.push_back({q.id, tags[taste]});
      split.questions.push_back(std::move(q));
    }
  }
  return split;
}

class TrainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string tok = testing::shared_model_path("stories260K/tok512.model");
    if (tok.empty()) GTEST_SKIP() << "../shared/models/stories260K is absent";
    // Weights larger than the usual 0.02 init give a random model outputs that can be steered
    // (with 0.02 its logits barely move whatever the input).
    const auto raw = random_model(testing::tiny_config(), 1, 0.3);
    llm_.model = std::make_shared<const LlamaModel>(raw.config, raw.weights);
    llm_.tokenizer = std::make_shared<const Tokenizer>(tok);
    encoder_ = make_llm_encoder(llm_.model, llm_.tokenizer);
  }
  std::unique_ptr<PersonaPlug> make(bool persona, uint64_t seed = 3) {
    PluginConfig c;
    c.task = "LaMP_2";
    c.use_persona = persona;
    return std::make_unique<PersonaPlug>(llm_, encoder_, c, seed);
  }
  TrainOptions options(const std::string& tag, int epochs = 6) {
    TrainOptions o;
    o.epochs = epochs;
    o.lr = 3e-2;
    o.batch_size = 4;
    o.seed = 3;
    o.progress_bar = false;
    o.out_dir = testing::temp_dir(tag) + "/run";
    return o;
  }
  LoadedModel llm_;
  std::shared_ptr<SentenceEncoder> encoder_;
};

TEST_F(TrainerTest, LossFallsAndPersonaBeatsTheNoPersonaAblation) {
  const auto split = two_taste_split(8, 3);
  auto plug = make(true);
  const auto with = train_plugin(*plug, split, options("with"));
  auto ablation = make(false);
  const auto without = train_plugin(*ablation, split, options("without"));
  std::cout << "loss: persona " << with.first_loss << " -> " << with.last_loss << ", no persona "
            << without.first_loss << " -> " << without.last_loss << "\n";
  EXPECT_LT(with.last_loss, 0.6 * with.first_loss);
  // Without the history a model can at best hedge between the two tags.
  EXPECT_LT(with.last_loss, without.last_loss - 0.05);
}

TEST_F(TrainerTest, TheLlmStaysFrozenAndOnlyPluginParametersTrain) {
  auto plug = make(true);
  const auto before = llm_.model->parameters();
  std::vector<at::Tensor> copies;
  for (const auto& p : before) copies.push_back(p.clone());
  const auto o = options("frozen", 1);
  train_plugin(*plug, two_taste_split(2, 2), o);
  const auto after = llm_.model->parameters();
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_FALSE(after[i].requires_grad());
    EXPECT_FALSE(after[i].grad().defined());
    EXPECT_TRUE(at::equal(after[i], copies[i]));
  }
  EXPECT_TRUE(std::filesystem::exists(o.out_dir + "/best/manifest.json"));
  EXPECT_TRUE(std::filesystem::exists(o.out_dir + "/last/optimizer.pt"));
  EXPECT_TRUE(std::filesystem::exists(o.out_dir + "/metrics.jsonl"));
  // The reloaded best checkpoint is the trained plug-in.
  auto loaded = PersonaPlug::load(o.out_dir + "/best", llm_, encoder_);
  EXPECT_EQ(loaded->fingerprint(), plug->fingerprint());
}

TEST_F(TrainerTest, ResumedRunEndsWithTheSameWeights) {
  const auto split = two_taste_split(4, 2);
  auto straight = make(true);
  train_plugin(*straight, split, options("straight", 3));

  auto first = make(true);
  auto o = options("resume", 3);
  int calls = 0;
  // Interrupt in the second epoch (the stop is honoured at the next step boundary).
  const DevEvaluator stop_after_first_epoch = [&](const PersonaPlug&) {
    if (++calls == 1) request_training_stop();
    return std::make_pair(0.0, true);
  };
  const auto interrupted = train_plugin(*first, split, o, stop_after_first_epoch);
  ASSERT_TRUE(interrupted.interrupted);
  auto resumed = make(true, /*seed=*/99);  // initial weights are replaced by the checkpoint
  train_plugin(*resumed, split, o, nullptr, o.out_dir + "/last");
  EXPECT_EQ(resumed->fingerprint(), straight->fingerprint());
  auto a = straight->train_module().named_parameters();
  auto b = resumed->train_module().named_parameters();
  for (const auto& p : a) EXPECT_TRUE(at::equal(p.value(), b[p.key()])) << p.key();
}

// PluginConfig::input_encoder kCopy: a full trainable copy of a BERT history encoder trains with
// the plug-in (the reference's setting) while the history encoder and the LLM stay frozen; the
// copy is saved in the plug-in, and an interrupted run still resumes to the same weights.
TEST_F(TrainerTest, TrainableInputEncoderCopy) {
  const std::string dir = testing::tiny_bert_dir("bert_copy", /*seed=*/2);
  if (dir.empty()) GTEST_SKIP() << "../shared/models/bert-base-uncased-vocab is absent";
  encoder_ = make_bert_encoder(BertEncoder::load(dir));
  auto make_copy = [&](uint64_t seed) {
    PluginConfig c;
    c.task = "LaMP_2";
    c.input_encoder = InputEncoder::kCopy;
    return std::make_unique<PersonaPlug>(llm_, encoder_, c, seed);
  };
  auto plug = make_copy(3);
  std::map<std::string, at::Tensor> before;
  for (const auto& p : plug->train_module().named_parameters()) {
    before[p.key()] = p.value().clone();
  }
  ASSERT_TRUE(before.count("input_encoder.embeddings.word_embeddings.weight"));
  const std::string input = "Which tag? description: a movie about a dog number 1";
  const auto frozen_query = encoder_->encode({plug->query_text(input)}, /*as_query=*/true);
  EXPECT_TRUE(at::allclose(plug->query_vectors({input}), frozen_query, 1e-5, 1e-6));

  const auto split = two_taste_split(4, 2);
  auto o = options("copy", 2);
  train_plugin(*plug, split, o);
  int changed = 0;
  for (const auto& p : plug->train_module().named_parameters()) {
    if (p.key().rfind("input_encoder.", 0) == 0) changed += !at::equal(p.value(), before[p.key()]);
  }
  EXPECT_GT(changed, 0);
  // The history encoder is untouched: its vectors for the same text are what they were.
  EXPECT_TRUE(at::equal(encoder_->encode({plug->query_text(input)}, true), frozen_query));
  EXPECT_FALSE(at::allclose(plug->query_vectors({input}), frozen_query, 1e-4, 1e-5));
  auto loaded = PersonaPlug::load(o.out_dir + "/last/plugin", llm_, encoder_);
  EXPECT_EQ(loaded->fingerprint(), plug->fingerprint());
  EXPECT_TRUE(at::equal(loaded->query_vectors({input}), plug->query_vectors({input})));

  // Resume equivalence holds with the copy too (no dropout draws in training).
  auto first = make_copy(3);
  auto r = options("copy_resume", 2);
  int calls = 0;
  const DevEvaluator stop_after_first_epoch = [&](const PersonaPlug&) {
    if (++calls == 1) request_training_stop();
    return std::make_pair(0.0, true);
  };
  ASSERT_TRUE(train_plugin(*first, split, r, stop_after_first_epoch).interrupted);
  auto resumed = make_copy(99);
  train_plugin(*resumed, split, r, nullptr, r.out_dir + "/last");
  EXPECT_EQ(resumed->fingerprint(), plug->fingerprint());

  // The copy needs a BERT encoder and the encoder query source.
  PluginConfig on_llm;
  on_llm.task = "LaMP_2";
  on_llm.input_encoder = InputEncoder::kCopy;
  EXPECT_THROW(PersonaPlug(llm_, make_llm_encoder(llm_.model, llm_.tokenizer), on_llm),
               InvalidArgument);
}

TEST_F(TrainerTest, BadInputsAreRefusedWithoutTouchingFiles) {
  auto plug = make(true);
  EXPECT_THROW(train_plugin(*plug, LabelledSplit{}, options("empty")), InvalidArgument);
  auto split = two_taste_split(2, 1);
  split.golds.pop_back();
  EXPECT_THROW(train_plugin(*plug, split, options("golds")), InvalidArgument);
  auto o = options("foreign");
  std::filesystem::create_directories(o.out_dir);
  std::ofstream(o.out_dir + "/thesis.tex") << "precious";
  EXPECT_THROW(train_plugin(*plug, two_taste_split(2, 1), o), InvalidArgument);
  EXPECT_TRUE(std::filesystem::exists(o.out_dir + "/thesis.tex"));
  EXPECT_FALSE(std::filesystem::exists(o.out_dir + "/metrics.jsonl"));
}

}  // namespace
}  // namespace pplug
