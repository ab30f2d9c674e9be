// Separate item keys ("llm:VALUES/KEYS" encoders) and standardized attention scores.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "pplug/error.h"
#include "pplug/persona_plug.h"
#include "support/test_models.h"

namespace pplug {
namespace {

class ItemKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    llm_ = testing::tiny_model_with_tok512(1);
    if (!llm_.model) GTEST_SKIP() << "../shared/models/stories260K is absent";
  }
  std::shared_ptr<PersonaPlug> make(const std::string& encoder, PluginConfig config = {}) {
    config.task = "LaMP_2";
    return std::make_shared<PersonaPlug>(llm_, load_sentence_encoder(encoder, llm_), config);
  }
  static std::vector<HistoryItem> history(int n) {
    std::vector<HistoryItem> items;
    const char* topics[] = {"a boat on the sea", "a cow on the farm", "a rocket to the moon"};
    for (int i = 0; i < n; ++i) {
      HistoryItem item;
      item.id = "h" + std::to_string(i);
      item.set("description", std::string("a movie about ") + topics[i % 3]);
      item.set("tag", i % 2 ? "comedy" : "action");
      items.push_back(item);
    }
    return items;
  }
  const std::string input_ = "Which tag? description: a big fish in the sea";
  LoadedModel llm_;
};

TEST_F(ItemKeysTest, KeysAndQueriesArePooledOneWayAndValuesTheOther) {
  const auto mean = load_sentence_encoder("llm", llm_);
  const auto last = load_sentence_encoder("llm:last", llm_);
  const auto both = load_sentence_encoder("llm:last/mean", llm_);
  const std::vector<std::string> texts = {"a dog", "the big red ball is here", "a cat"};
  const ItemVectors items = both->encode_items(texts);
  ASSERT_TRUE(items.keys.defined());
  EXPECT_TRUE(at::allclose(items.values, last->encode(texts, false), 1e-5, 1e-6));
  EXPECT_TRUE(at::allclose(items.keys, mean->encode(texts, false), 1e-5, 1e-6));
  EXPECT_TRUE(at::allclose(both->encode(texts, true), mean->encode(texts, true), 1e-5, 1e-6));
  EXPECT_TRUE(at::allclose(both->encode(texts, false), last->encode(texts, false), 1e-5, 1e-6));
  // Encoders without keys return none; a key pooling equal to the value pooling is no key.
  EXPECT_FALSE(last->encode_items(texts).keys.defined());
  EXPECT_FALSE(load_sentence_encoder("llm:last/last", llm_)->encode_items(texts).keys.defined());
  EXPECT_EQ(load_sentence_encoder("llm:mean", llm_)->fingerprint(), mean->fingerprint());
  // The fingerprints tell all three apart (user embeddings of one are refused by another).
  EXPECT_NE(both->fingerprint(), last->fingerprint());
  EXPECT_NE(both->fingerprint(), mean->fingerprint());
  for (const char* bad : {"llm:first", "llm:last/", "llm:last/max", "llm:"}) {
    EXPECT_THROW(load_sentence_encoder(bad, llm_), InvalidArgument) << bad;
  }
}

TEST_F(ItemKeysTest, TheAggregatorMatchesTheInputAgainstTheKeys) {
  auto plug = make("llm:last/mean");
  const UserEmbedding user = plug->embed_user(history(6));
  const auto mean_plug = make("llm");
  const UserEmbedding mean_user = mean_plug->embed_user(history(6));
  EXPECT_TRUE(at::allclose(user.item_keys(), mean_user.item_vectors(), 1e-5, 1e-6));
  EXPECT_FALSE(at::allclose(user.item_keys(), user.item_vectors(), 1e-3, 1e-3));
  // Fresh plug-ins (zero adapter): weights = softmax(cos(query, key) / T), by hand.
  const auto query = plug->query_vectors({input_})[0];
  const auto expected = at::softmax(user.item_keys().matmul(query), 0);
  const auto weights = plug->attention_weights(user, input_);
  ASSERT_EQ(weights.size(), 6u);
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(weights[i], expected[i].item<float>(), 1e-5) << i;
  // Keys survive the user embedding's bytes.
  const UserEmbedding back = UserEmbedding::from_bytes(user.to_bytes());
  EXPECT_TRUE(at::equal(back.item_keys(), user.item_keys()));
  EXPECT_TRUE(at::equal(back.item_vectors(), user.item_vectors()));
  EXPECT_TRUE(at::equal(plug->soft_tokens(back, input_), plug->soft_tokens(user, input_)));
  // A user embedded under the plain last-token encoder is refused (its keys would be missing).
  const UserEmbedding other = make("llm:last")->embed_user(history(6));
  EXPECT_THROW(plug->soft_tokens(other, input_), MismatchError);
}

TEST_F(ItemKeysTest, StandardizedScoresAreTheCosinesStandardizedOverTheUsersItems) {
  PluginConfig config;
  config.scores = AttentionScores::kStandardized;
  config.temperature = 0.3;
  auto plug = make("llm", config);
  const UserEmbedding user = plug->embed_user(history(7));
  const auto cos = user.item_keys().matmul(plug->query_vectors({input_})[0]).to(at::kDouble);
  const auto z = (cos - cos.mean()) / cos.std(/*unbiased=*/false);
  const auto expected = at::softmax(z / 0.3, 0);
  const auto weights = plug->attention_weights(user, input_);
  for (int i = 0; i < 7; ++i) EXPECT_NEAR(weights[i], expected[i].item<double>(), 1e-5) << i;
  // In a batch with a shorter user (padded rows), each user's soft tokens are as when alone:
  // the padding takes no part in the mean and deviation.
  const UserEmbedding short_user = plug->embed_user(history(2));
  const auto batch = plug->embedded_prompts({{&user, input_}, {&short_user, input_}});
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_TRUE(at::allclose(batch[0].embeds, plug->embedded_prompts({{&user, input_}})[0].embeds,
                           1e-5, 1e-6));
  EXPECT_TRUE(at::allclose(batch[1].embeds,
                           plug->embedded_prompts({{&short_user, input_}})[0].embeds, 1e-5, 1e-6));
  // One item: its standardized score is 0 and it takes all the weight.
  const UserEmbedding single = plug->embed_user(history(1));
  EXPECT_NEAR(plug->attention_weights(single, input_)[0], 1.0, 1e-6);
  // The scores kind is part of the plug-in's manifest: saved and loaded.
  const std::string dir = ::testing::TempDir() + "/pplug_standardized_plugin";
  std::filesystem::remove_all(dir);
  plug->save(dir);
  auto loaded = PersonaPlug::load(dir, llm_, load_sentence_encoder("llm", llm_));
  EXPECT_EQ(loaded->config().scores, AttentionScores::kStandardized);
  const auto again = loaded->attention_weights(user, input_);
  for (int i = 0; i < 7; ++i) EXPECT_NEAR(again[i], weights[i], 1e-6) << i;
  std::filesystem::remove_all(dir);
  EXPECT_EQ(parse_attention_scores("standardized"), AttentionScores::kStandardized);
  EXPECT_THROW(parse_attention_scores("zscore"), InvalidArgument);
}

TEST_F(ItemKeysTest, AppendingItemsEqualsEmbeddingTheLongerHistory) {
  for (const char* encoder : {"llm:last/mean", "llm:last"}) {
    auto plug = make(encoder);
    const auto all = history(7);
    const std::vector<HistoryItem> head(all.begin(), all.begin() + 4),
        rest(all.begin() + 4, all.end());
    const UserEmbedding whole = plug->embed_user(all);
    const UserEmbedding joined = plug->embed_user(head).appended(plug->embed_user(rest), 100);
    EXPECT_EQ(joined.item_ids(), whole.item_ids());
    EXPECT_EQ(joined.item_keys().defined(), whole.item_keys().defined());
    EXPECT_TRUE(at::allclose(joined.item_vectors(), whole.item_vectors(), 1e-5, 1e-6));
    EXPECT_TRUE(at::allclose(joined.item_keys(), whole.item_keys(), 1e-5, 1e-6));
    EXPECT_TRUE(at::allclose(joined.item_projections(), whole.item_projections(), 1e-5, 1e-6));
    // max_items keeps the most recent rows, keys included.
    const UserEmbedding last3 = plug->embed_user(head).appended(plug->embed_user(rest), 3);
    EXPECT_EQ(last3.item_ids(), (std::vector<std::string>{"h4", "h5", "h6"}));
    EXPECT_TRUE(at::allclose(last3.item_keys(), whole.item_keys().slice(0, 4), 1e-5, 1e-6));
    // Appending to or from an empty history, and refusals.
    EXPECT_EQ(UserEmbedding().appended(whole, 100).item_ids(), whole.item_ids());
    EXPECT_EQ(whole.appended(UserEmbedding(), 100).item_ids(), whole.item_ids());
    EXPECT_THROW(whole.appended(plug->embed_user(head), 100), InvalidArgument);  // same ids
    EXPECT_THROW(whole.appended(plug->embed_user(head), 0), InvalidArgument);
  }
  HistoryItem other;
  other.id = "x";
  other.set("description", "a dog");
  other.set("tag", "comedy");
  EXPECT_THROW(make("llm:last")
                   ->embed_user(history(2))
                   .appended(make("llm:last/mean")->embed_user({other}), 100),
               InvalidArgument);
}

TEST_F(ItemKeysTest, APluginRecordsTheLlmEncoderItWasMadeWith) {
  const std::string dir = ::testing::TempDir() + "/pplug_recorded_encoder_plugin";
  std::filesystem::remove_all(dir);
  make("llm:last/mean")->save(dir);
  EXPECT_EQ(PersonaPlug::recorded_encoder(dir), "llm:last/mean");
  // The recorded name rebuilds the very encoder: the plug-in loads with it.
  EXPECT_NO_THROW(PersonaPlug::load(
      dir, llm_, load_sentence_encoder(PersonaPlug::recorded_encoder(dir), llm_)));
  // Another encoder is refused, and the message names both.
  try {
    PersonaPlug::load(dir, llm_, load_sentence_encoder("llm:last", llm_));
    FAIL();
  } catch (const MismatchError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'llm:last/mean'"), std::string::npos) << what;
    EXPECT_NE(what.find("'llm:last'"), std::string::npos) << what;
  }
  std::filesystem::remove_all(dir);
  make("llm")->save(dir);
  EXPECT_EQ(PersonaPlug::recorded_encoder(dir), "llm:mean");
  // Non-default options have no name to rebuild them from: nothing is recorded.
  LlmEncoderOptions custom;
  custom.max_tokens = 64;
  PluginConfig config;
  config.task = "LaMP_2";
  std::filesystem::remove_all(dir);
  PersonaPlug(llm_, make_llm_encoder(llm_.model, llm_.tokenizer, custom), config).save(dir);
  EXPECT_EQ(PersonaPlug::recorded_encoder(dir), "");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace pplug
