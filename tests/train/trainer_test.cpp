// Training on a tiny random LLM: the loss falls, personalization beats the no-persona ablation,
// the LLM stays frozen, and an interrupted run resumes to the same weights.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>

#include "plug/plugin_module.h"
#include "plug/plugin_training.h"
#include "pplug/error.h"
#include "pplug/lamp_metrics.h"
#include "pplug/text_encoder.h"
#include "pplug/trainer.h"
#include "support/test_models.h"

namespace pplug {
namespace {

using testing::two_taste_split;

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
  auto a = pplug::detail::PluginTraining::module(*straight).named_parameters();
  auto b = pplug::detail::PluginTraining::module(*resumed).named_parameters();
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
  for (const auto& p : pplug::detail::PluginTraining::module(*plug).named_parameters()) {
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
  for (const auto& p : pplug::detail::PluginTraining::module(*plug).named_parameters()) {
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

size_t count_lines(const std::string& path, const std::string& needle = "") {
  std::ifstream in(path);
  size_t n = 0;
  for (std::string line; std::getline(in, line);) n += line.find(needle) != std::string::npos;
  return n;
}

// A LaMP_3 plug-in trained on a rating gold the scorer refuses ("banana") is refused too.
TEST_F(TrainerTest, GoldsTheScorerRefusesAreRefused) {
  PluginConfig c;
  c.task = "LaMP_3";
  PersonaPlug plug(llm_, encoder_, c, 3);
  auto split = two_taste_split(2, 1);
  for (auto& g : split.golds) g.output = "4";
  split.golds.back().output = "banana";
  try {
    train_plugin(plug, split, options("banana"));
    FAIL() << "a gold 'banana' was accepted for LaMP_3";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("is not a number: \"banana\""), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find(split.golds.back().id), std::string::npos) << e.what();
  }
  EXPECT_THROW(lamp::score(lamp::Task::kLaMP3, split.golds, split.golds), FormatError);
}

// A learning rate that blows the weights up stops the run with a clear error before anything
// non-finite is saved.
TEST_F(TrainerTest, NonFiniteTrainingStopsWithoutSavingIt) {
  auto plug = make(true);
  auto o = options("diverge", 2);
  o.lr = 1e30;
  try {
    train_plugin(*plug, two_taste_split(4, 2), o);
    FAIL() << "training with lr 1e30 finished";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("training diverged at step"), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(o.out_dir + "/best"));
  EXPECT_FALSE(std::filesystem::exists(o.out_dir + "/last"));
  EXPECT_EQ(count_lines(o.out_dir + "/metrics.jsonl", "\"diverged\""), 1u);
  auto bad = options("inf_lr");
  bad.lr = std::numeric_limits<double>::infinity();
  EXPECT_THROW(train_plugin(*plug, two_taste_split(2, 1), bad), InvalidArgument);
}

// Weights that go non-finite in epoch 2 (injected here by the dev evaluator) are never saved:
// last/ and best/ keep epoch 1's checkpoint.
TEST_F(TrainerTest, TheLastGoodCheckpointIsKept) {
  auto plug = make(true);
  auto o = options("keep_good", 2);
  int calls = 0;
  std::string good;
  const DevEvaluator poison_in_epoch_two = [&](const PersonaPlug& p) {
    if (++calls == 2) {
      torch::NoGradGuard no_grad;
      pplug::detail::PluginTraining::module(p).persona_proj->fc2->weight[0][0].fill_(std::nan(""));
    } else {
      good = p.fingerprint();
    }
    return std::make_pair(static_cast<double>(calls), true);
  };
  EXPECT_THROW(train_plugin(*plug, two_taste_split(4, 2), o, poison_in_epoch_two), Error);
  std::ifstream state(o.out_dir + "/last/state.json");
  const std::string text((std::istreambuf_iterator<char>(state)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("\"epoch\": 1"), std::string::npos) << text;
  auto best = PersonaPlug::load(o.out_dir + "/best", llm_, encoder_);
  EXPECT_EQ(best->fingerprint(), good);
}

// metrics.jsonl is written line by line (a kill -9 loses nothing already logged) and a resumed
// run appends to it.
TEST_F(TrainerTest, MetricsAreFlushedPerLineAndKeptOnResume) {
  const auto split = two_taste_split(4, 2);
  auto plug = make(true);
  auto o = options("metrics", 3);
  size_t seen_during_run = 0;
  int calls = 0;
  const DevEvaluator look = [&](const PersonaPlug&) {
    if (++calls == 1) {
      seen_during_run = count_lines(o.out_dir + "/metrics.jsonl", "\"loss\"");
      request_training_stop();
    }
    return std::make_pair(0.0, true);
  };
  const auto first = train_plugin(*plug, split, o, look);
  ASSERT_TRUE(first.interrupted);
  EXPECT_EQ(seen_during_run, 2u);  // 8 examples / batch 4: the epoch's two steps, on disk
  const size_t before = count_lines(o.out_dir + "/metrics.jsonl", "\"loss\"");
  auto resumed = make(true);
  const auto rest = train_plugin(*resumed, split, o, nullptr, o.out_dir + "/last");
  EXPECT_EQ(count_lines(o.out_dir + "/metrics.jsonl", "\"loss\""),
            before + static_cast<size_t>(rest.steps - first.steps));
  EXPECT_EQ(count_lines(o.out_dir + "/metrics.jsonl", "\"resumed_at_step\""), 1u);
}

// What a kill -9 can leave behind never blocks a rerun or a resume.
TEST_F(TrainerTest, LeftoversOfAKilledRunAreCleanedUp) {
  namespace fs = std::filesystem;
  const auto split = two_taste_split(2, 2);
  // Killed in the first millisecond: only the marker's temporary file exists.
  auto o = options("killed_early", 1);
  fs::create_directories(o.out_dir);
  std::ofstream(o.out_dir + "/train_run.json.tmp.123.456") << "{";
  auto plug = make(true);
  train_plugin(*plug, split, o);
  EXPECT_FALSE(fs::exists(o.out_dir + "/train_run.json.tmp.123.456"));
  EXPECT_TRUE(fs::exists(o.out_dir + "/best/manifest.json"));

  // Killed between the two renames of a checkpoint swap: last/ is missing, last.old/ holds the
  // previous state and last.tmp/ a half-written one.
  auto r = options("killed_swap", 2);
  int calls = 0;
  const DevEvaluator stop = [&](const PersonaPlug&) {
    if (++calls == 1) request_training_stop();
    return std::make_pair(0.0, true);
  };
  auto first = make(true);
  ASSERT_TRUE(train_plugin(*first, split, r, stop).interrupted);
  fs::rename(r.out_dir + "/last", r.out_dir + "/last.old");
  fs::create_directories(r.out_dir + "/last.tmp/plugin");
  fs::create_directories(r.out_dir + "/best.tmp-1-2");
  auto resumed = make(true);
  const auto summary = train_plugin(*resumed, split, r, nullptr, r.out_dir + "/last");
  EXPECT_FALSE(summary.interrupted);
  for (const char* left : {"last.tmp", "last.old", "best.tmp-1-2"}) {
    EXPECT_FALSE(fs::exists(r.out_dir + "/" + left)) << left;
  }
  EXPECT_TRUE(fs::exists(r.out_dir + "/last/state.json"));
}

// A checkpoint whose state.json was damaged by hand is refused naming the file, not with a JSON
// library's exception.
TEST_F(TrainerTest, DamagedCheckpointStateIsAFormatError) {
  namespace fs = std::filesystem;
  const auto split = two_taste_split(2, 2);
  auto o = options("damaged_state", 1);
  auto plug = make(true);
  train_plugin(*plug, split, o);
  const std::string state = o.out_dir + "/last/state.json";
  for (const std::string text : {"{\"epoch\": ", "{\"epoch\": \"one\"}", "[1e999]"}) {
    SCOPED_TRACE(text);
    std::ofstream(state) << text;
    auto resumed = make(true);
    try {
      train_plugin(*resumed, split, o, nullptr, o.out_dir + "/last");
      ADD_FAILURE() << "resumed from a damaged state.json";
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find(state + ": not a training checkpoint's state"),
                std::string::npos)
          << e.what();
    }
  }
}

}  // namespace
}  // namespace pplug
