// The plug-in on a tiny random LLM (vocab 512, so the real tok512 tokenizer fits it).
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "plug/plugin_module.h"
#include "plug/plugin_training.h"
#include "pplug/error.h"
#include "pplug/persona_plug.h"
#include "support/test_models.h"

namespace pplug {
namespace {

class PersonaPlugTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tok_path_ = testing::shared_model_path("stories260K/tok512.model");
    if (tok_path_.empty()) GTEST_SKIP() << "../shared/models/stories260K is absent";
    llm_.model = testing::tiny_model(1);
    llm_.tokenizer = std::make_shared<const Tokenizer>(tok_path_);
    encoder_ = make_llm_encoder(llm_.model, llm_.tokenizer);
  }
  std::shared_ptr<PersonaPlug> make(PluginConfig config = {}, uint64_t seed = 0) {
    config.task = config.task.empty() ? "LaMP_2" : config.task;
    return std::make_shared<PersonaPlug>(llm_, encoder_, config, seed);
  }
  static std::vector<HistoryItem> history(int n) {
    std::vector<HistoryItem> items;
    const char* tags[] = {"comedy", "action", "classic"};
    for (int i = 0; i < n; ++i) {
      HistoryItem item;
      item.id = "h" + std::to_string(i);
      item.set("description", "a story about a dog number " + std::to_string(i));
      item.set("tag", tags[i % 3]);
      items.push_back(item);
    }
    return items;
  }
  const std::string input_ = "Which tag does this movie relate to? description: a big red ball";
  std::string tok_path_;
  LoadedModel llm_;
  std::shared_ptr<SentenceEncoder> encoder_;
};

TEST_F(PersonaPlugTest, SoftTokensHaveTheEmbeddingNormAndAblationShapes) {
  auto plug = make();
  const auto user = plug->embed_user(history(5));
  EXPECT_EQ(user.num_items(), 5);
  EXPECT_EQ(user.item_vectors().sizes(), (std::vector<int64_t>{5, 32}));
  auto soft = plug->soft_tokens(user, input_);
  EXPECT_EQ(soft.sizes(), (std::vector<int64_t>{2, 32}));
  const double expected = llm_.model->embedding_matrix().norm(2, 1).mean().item<double>();
  EXPECT_NEAR(soft[0].norm().item<double>(), expected, 1e-4);
  EXPECT_NEAR(soft[1].norm().item<double>(), expected, 1e-4);
  PluginConfig no_persona;
  no_persona.use_persona = false;
  EXPECT_EQ(make(no_persona)->soft_tokens(user, input_).size(0), 1);
  PluginConfig three;
  three.num_persona_tokens = 3;
  three.use_instruction = false;
  EXPECT_EQ(make(three)->soft_tokens(make(three)->embed_user(history(2)), input_).size(0), 3);
  PluginConfig none;
  none.use_persona = false;
  none.use_instruction = false;
  EXPECT_THROW(make(none), InvalidArgument);
}

TEST_F(PersonaPlugTest, LastTokenPoolingIsTheFinalHiddenStateOfTheText) {
  LlmEncoderOptions last;
  last.pooling = LlmEncoderOptions::Pooling::kLast;
  auto pooled_last = make_llm_encoder(llm_.model, llm_.tokenizer, last);
  EXPECT_NE(pooled_last->fingerprint(), encoder_->fingerprint());
  const std::vector<std::string> texts = {"a dog", "the big red ball is here"};
  auto v = pooled_last->encode(texts, false);  // (2, 32), padded batch
  c10::InferenceMode guard;
  ForwardOptions fwd;
  fwd.return_hidden = true;
  fwd.skip_logits = true;
  for (size_t i = 0; i < texts.size(); ++i) {
    const auto ids = llm_.tokenizer->encode(texts[i], true);
    auto t = at::tensor(std::vector<int64_t>(ids.begin(), ids.end()), at::kLong).unsqueeze(0);
    auto h = llm_.model->forward(llm_.model->embed(t), {}, nullptr, fwd).hidden[0][-1];
    EXPECT_TRUE(at::allclose(v[i], h / h.norm(), 1e-4, 1e-5)) << texts[i];
  }
}

TEST_F(PersonaPlugTest, AggregatorWeights) {
  const auto items = history(6);
  PluginConfig mean;
  mean.aggregator = AggregatorKind::kMean;
  auto plug = make(mean);
  for (float w : plug->attention_weights(plug->embed_user(items), input_))
    EXPECT_NEAR(w, 1.0 / 6, 1e-6);
  auto attention = make();
  const auto w = attention->attention_weights(attention->embed_user(items), input_);
  double sum = 0;
  for (float x : w) sum += x;
  EXPECT_NEAR(sum, 1.0, 1e-5);
  PluginConfig top2;
  top2.top_k = 2;
  auto topk = make(top2);
  const auto wk = topk->attention_weights(topk->embed_user(items), input_);
  EXPECT_EQ(std::count_if(wk.begin(), wk.end(), [](float x) { return x > 0; }), 2);
  // No history: weights are empty of mass and the persona token is zero.
  const auto empty = attention->embed_user({});
  EXPECT_EQ(empty.num_items(), 0);
  EXPECT_EQ(attention->soft_tokens(empty, input_)[1].abs().sum().item<double>(), 0.0);
}

TEST_F(PersonaPlugTest, HistoryTemplatesIncludeLabelsAndMaxHistoryKeepsRecentItems) {
  auto plug = make();
  EXPECT_EQ(plug->item_text(history(1)[0]), "a story about a dog number 0 tag: comedy");
  HistoryItem bad;
  bad.id = "x";
  bad.set("text", "no description");
  EXPECT_THROW(plug->item_text(bad), InvalidArgument);
  PluginConfig small;
  small.max_history = 3;
  const auto user = make(small)->embed_user(history(5));
  EXPECT_EQ(user.item_ids(), (std::vector<std::string>{"h2", "h3", "h4"}));
  EXPECT_EQ(plug->query_text(input_), "a big red ball");
}

TEST_F(PersonaPlugTest, BatchedGenerationMatchesSingleRequests) {
  auto plug = make();
  const auto a = plug->embed_user(history(2)), b = plug->embed_user(history(7));
  GenerationOptions o;
  o.max_new_tokens = 6;
  const auto batch = plug->generate({{&a, input_}, {&b, "description: a sunny park"}}, o);
  EXPECT_EQ(batch[0].generated_ids, plug->generate(a, input_, o).generated_ids);
  EXPECT_EQ(batch[1].generated_ids,
            plug->generate(b, "description: a sunny park", o).generated_ids);
  // The soft tokens matter: another user gives other logits for the same input.
  EXPECT_FALSE(at::allclose(plug->soft_tokens(a, input_), plug->soft_tokens(b, input_)));
}

TEST_F(PersonaPlugTest, EmbedUsersEqualsOneUserAtATime) {
  auto plug = make();
  const std::vector<std::vector<HistoryItem>> histories = {history(3), {}, history(9), history(1)};
  const auto batch = plug->embed_users(histories);
  ASSERT_EQ(batch.size(), histories.size());
  for (size_t u = 0; u < histories.size(); ++u) {
    const auto one = plug->embed_user(histories[u]);
    EXPECT_EQ(batch[u].item_ids(), one.item_ids());
    EXPECT_EQ(batch[u].num_items(), one.num_items());
    EXPECT_EQ(batch[u].plugin_fingerprint(), one.plugin_fingerprint());
    if (one.num_items() == 0) continue;
    EXPECT_TRUE(at::allclose(batch[u].item_vectors(), one.item_vectors(), 1e-5, 1e-6));
    EXPECT_TRUE(at::allclose(batch[u].item_projections(), one.item_projections(), 1e-4, 1e-5));
  }
}

TEST_F(PersonaPlugTest, ConcurrentGenerateEqualsSerial) {
  auto plug = make();
  std::vector<UserEmbedding> users;
  for (int n : {1, 3, 5, 8}) users.push_back(plug->embed_user(history(n)));
  GenerationOptions o;
  o.max_new_tokens = 5;
  std::vector<std::vector<int>> serial, parallel(users.size());
  for (const auto& u : users) serial.push_back(plug->generate(u, input_, o).generated_ids);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < users.size(); ++i) {
    threads.emplace_back(
        [&, i] { parallel[i] = plug->generate(users[i], input_, o).generated_ids; });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(parallel, serial);
}

TEST_F(PersonaPlugTest, SaveLoadRoundTripAndDeterminism) {
  auto plug = make({}, 5);
  EXPECT_EQ(plug->fingerprint(), make({}, 5)->fingerprint());
  EXPECT_NE(plug->fingerprint(), make({}, 6)->fingerprint());
  const std::string dir = testing::temp_dir("plugin") + "/p";
  plug->save(dir);
  plug->save(dir);  // overwriting a plug-in folder is allowed
  auto loaded = PersonaPlug::load(dir, llm_, encoder_);
  EXPECT_EQ(loaded->fingerprint(), plug->fingerprint());
  const auto user = plug->embed_user(history(4));
  EXPECT_TRUE(at::equal(loaded->soft_tokens(user, input_), plug->soft_tokens(user, input_)));
  int leftovers = 0;
  for (const auto& e :
       std::filesystem::directory_iterator(std::filesystem::path(dir).parent_path())) {
    leftovers += e.path().filename() != "p";
  }
  EXPECT_EQ(leftovers, 0);
}

TEST_F(PersonaPlugTest, MismatchedModelsAndBadManifestsAreRefused) {
  auto plug = make();
  const std::string dir = testing::temp_dir("plugin") + "/p";
  plug->save(dir);
  LoadedModel other = llm_;
  other.model = testing::tiny_model(2);
  EXPECT_THROW(PersonaPlug::load(dir, other, encoder_), MismatchError);
  EXPECT_THROW(PersonaPlug::load(dir, llm_, make_llm_encoder(other.model, llm_.tokenizer)),
               MismatchError);
  std::ifstream in(dir + "/manifest.json");
  std::string manifest((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto rewrite = [&](const std::string& from, const std::string& to) {
    std::string changed = manifest;
    changed.replace(changed.find(from), from.size(), to);
    std::ofstream(dir + "/manifest.json") << changed;
  };
  rewrite("\"top_k\"", "\"top_kk\"");
  try {
    PersonaPlug::load(dir, llm_, encoder_);
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown field 'config.top_kk'"), std::string::npos);
  }
  rewrite("\"use_persona\": true", "\"use_persona\": 1");
  EXPECT_THROW(PersonaPlug::load(dir, llm_, encoder_), FormatError);
  std::ofstream(dir + "/manifest.json") << "{";
  EXPECT_THROW(PersonaPlug::load(dir, llm_, encoder_), FormatError);
  const std::string other_dir = testing::temp_dir("plugin");
  std::ofstream(other_dir + "/precious.txt") << "keep me";
  EXPECT_THROW(plug->save(other_dir), InvalidArgument);
  EXPECT_TRUE(std::filesystem::exists(other_dir + "/precious.txt"));
}

TEST_F(PersonaPlugTest, UserEmbeddingRoundTripsAndSurvivesRetraining) {
  auto plug = make();
  const auto user = plug->embed_user(history(3));
  const std::string path = testing::temp_dir("user") + "/u.bin";
  user.save(path);
  const auto back = UserEmbedding::load(path);
  EXPECT_EQ(back.item_ids(), user.item_ids());
  EXPECT_TRUE(at::equal(back.item_vectors(), user.item_vectors()));
  EXPECT_TRUE(at::equal(plug->soft_tokens(back, input_), plug->soft_tokens(user, input_)));
  EXPECT_THROW(UserEmbedding::from_bytes("garbage", "mem"), FormatError);
  // After the plug-in's weights change, cached projections are recomputed, not reused.
  {
    torch::NoGradGuard no_grad;
    pplug::detail::PluginTraining::module(*plug).persona_proj->fc2->weight.mul_(2.0).add_(0.1);
  }
  pplug::detail::PluginTraining::refresh_fingerprint(*plug);
  const auto fresh = plug->embed_user(history(3));
  EXPECT_TRUE(at::allclose(plug->soft_tokens(user, input_), plug->soft_tokens(fresh, input_)));
  // A user embedded with another encoder is refused.
  auto other_plug = std::make_shared<PersonaPlug>(
      llm_, make_llm_encoder(testing::tiny_model(3), llm_.tokenizer), PluginConfig{"LaMP_2"});
  EXPECT_THROW(other_plug->soft_tokens(user, input_), MismatchError);
}

// query_source kPrompt: the query is the LLM's reading of the prompt head, pooled like the
// history items; generate() and score_candidates() read the prompt once and must give what the
// two-pass inputs (embedded_prompts) give.
class PromptQueryTest : public PersonaPlugTest {
 protected:
  std::shared_ptr<PersonaPlug> make_prompt_plug(LlmEncoderOptions::Pooling pooling) {
    LlmEncoderOptions eo;
    eo.pooling = pooling;
    encoder_ = make_llm_encoder(llm_.model, llm_.tokenizer, eo);
    PluginConfig c;
    c.placement = SoftTokenPlacement::kBeforeAnswer;
    c.query_source = QuerySource::kPrompt;
    return make(c, 3);
  }
};

TEST_F(PromptQueryTest, QueryIsTheEncodersVectorOfThePromptHead) {
  for (auto pooling : {LlmEncoderOptions::Pooling::kLast, LlmEncoderOptions::Pooling::kMean}) {
    auto plug = make_prompt_plug(pooling);
    // The head is [BOS] + the input's tokens: exactly what the LLM encoder reads for the input.
    const auto q = plug->query_vectors({input_, "description: a sunny park"});
    const auto e = encoder_->encode({input_, "description: a sunny park"}, /*as_query=*/false);
    EXPECT_TRUE(at::allclose(q, e, 1e-4, 1e-5));
  }
}

TEST_F(PromptQueryTest, ReadingThePromptOnceEqualsTwoPasses) {
  for (auto pooling : {LlmEncoderOptions::Pooling::kLast, LlmEncoderOptions::Pooling::kMean}) {
    auto plug = make_prompt_plug(pooling);
    const auto a = plug->embed_user(history(3)), b = plug->embed_user(history(6));
    const std::vector<UserRequest> requests = {{&a, input_}, {&b, "description: a sunny park"}};
    Generator generator(llm_.model, llm_.tokenizer);
    const auto two_pass = plug->embedded_prompts(requests);
    GenerationOptions o;
    o.max_new_tokens = 6;
    const auto once = plug->generate(requests, o);
    const auto reference = generator.generate_embedded(two_pass, o);
    for (size_t i = 0; i < requests.size(); ++i) {
      EXPECT_EQ(once[i].generated_ids, reference[i].generated_ids);
      EXPECT_NEAR(once[i].log_prob, reference[i].log_prob, 1e-3);
    }
    o.num_beams = 2;
    EXPECT_EQ(plug->generate(requests, o)[1].generated_ids,
              generator.generate_embedded(two_pass, o)[1].generated_ids);
    const std::vector<std::vector<int>> labels = {llm_.tokenizer->encode("comedy"),
                                                  llm_.tokenizer->encode("action")};
    const auto s1 = plug->score_candidates(requests, labels);
    const auto s2 = generator.score_candidates(two_pass, labels);
    for (size_t r = 0; r < requests.size(); ++r) {
      for (size_t c = 0; c < labels.size(); ++c) EXPECT_NEAR(s1[r][c], s2[r][c], 1e-3);
    }
  }
}

TEST_F(PromptQueryTest, RequestsJoiningARunningBatchEqualGenerate) {
  // Both ways of building a personalized prompt (the prompt read once with its soft tokens as a
  // tail, and the soft tokens placed by the encoder's query), joining a running decode.
  PluginConfig encoder_query;
  encoder_query.placement = SoftTokenPlacement::kBeforeAnswer;
  for (auto plug : {make_prompt_plug(LlmEncoderOptions::Pooling::kMean), make(encoder_query, 3)}) {
    const auto a = plug->embed_user(history(3)), b = plug->embed_user(history(6));
    GenerationOptions o;
    o.max_new_tokens = 8;
    o.stop_at_eos = false;
    GenerationBatch batch(Generator(llm_.model, llm_.tokenizer));
    const uint64_t first = plug->add_to(batch, {{&a, input_}}, o);
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(batch.step().empty());
    const uint64_t second =
        plug->add_to(batch, {{&b, "description: a sunny park"}, {&a, "description: a boat"}}, o);
    std::map<uint64_t, std::vector<GenerationResult>> got;
    while (!batch.empty()) {
      for (auto& done : batch.step()) got[done.group] = std::move(done.results);
    }
    const auto alone_first = plug->generate({{&a, input_}}, o);
    const auto alone_second =
        plug->generate({{&b, "description: a sunny park"}, {&a, "description: a boat"}}, o);
    ASSERT_EQ(got[first].size(), 1u);
    ASSERT_EQ(got[second].size(), 2u);
    EXPECT_EQ(got[first][0].generated_ids, alone_first[0].generated_ids);
    EXPECT_EQ(got[first][0].prompt_ids, alone_first[0].prompt_ids);
    for (size_t i = 0; i < 2; ++i) {
      EXPECT_EQ(got[second][i].generated_ids, alone_second[i].generated_ids) << i;
      EXPECT_EQ(got[second][i].text, alone_second[i].text) << i;
    }
  }
  auto plug = make();
  const auto user = plug->embed_user(history(2));
  auto other = testing::tiny_model(2);  // another LLM: its batch cannot take this plug-in's rows
  GenerationBatch foreign(Generator(other, llm_.tokenizer));
  EXPECT_THROW(plug->add_to(foreign, {{&user, input_}}, {}), MismatchError);
}

TEST_F(PromptQueryTest, ConcurrentScoringEqualsSerial) {
  auto plug = make_prompt_plug(LlmEncoderOptions::Pooling::kLast);
  std::vector<UserEmbedding> users;
  for (int n : {1, 4, 7}) users.push_back(plug->embed_user(history(n)));
  const std::vector<std::vector<int>> labels = {llm_.tokenizer->encode("comedy"),
                                                llm_.tokenizer->encode("action")};
  std::vector<std::vector<std::vector<double>>> serial, parallel(users.size());
  for (const auto& u : users) serial.push_back(plug->score_candidates({{&u, input_}}, labels));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < users.size(); ++i) {
    threads.emplace_back([&, i] {
      parallel[i] = plug->score_candidates({{&users[i], input_}}, labels);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(parallel, serial);
}

TEST_F(PromptQueryTest, PersistsAndIsRefusedWhereItCannotWork) {
  auto plug = make_prompt_plug(LlmEncoderOptions::Pooling::kLast);
  const std::string dir = testing::temp_dir("plugin") + "/p";
  plug->save(dir);
  auto loaded = PersonaPlug::load(dir, llm_, encoder_);
  EXPECT_EQ(loaded->config().query_source, QuerySource::kPrompt);
  const auto user = plug->embed_user(history(4));
  EXPECT_TRUE(at::equal(loaded->soft_tokens(user, input_), plug->soft_tokens(user, input_)));

  PluginConfig after_bos;
  after_bos.query_source = QuerySource::kPrompt;  // placement stays after-bos
  EXPECT_THROW(make(after_bos), InvalidArgument);
  PluginConfig other_encoder;
  other_encoder.placement = SoftTokenPlacement::kBeforeAnswer;
  other_encoder.query_source = QuerySource::kPrompt;
  encoder_ = make_llm_encoder(testing::tiny_model(2), llm_.tokenizer);  // another LLM's space
  try {
    make(other_encoder);
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("LLM itself as history encoder"), std::string::npos);
  }

  std::ifstream in(dir + "/manifest.json");
  std::string manifest((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  auto rewrite = [&](const std::string& from, const std::string& to) {
    std::string changed = manifest;
    ASSERT_NE(changed.find(from), std::string::npos) << from;
    changed.replace(changed.find(from), from.size(), to);
    std::ofstream(dir + "/manifest.json") << changed;
  };
  encoder_ = make_llm_encoder(llm_.model, llm_.tokenizer, [] {
    LlmEncoderOptions o;
    o.pooling = LlmEncoderOptions::Pooling::kLast;
    return o;
  }());
  rewrite("\"query_source\": \"prompt\"", "\"query_source\": \"prompts\"");
  try {
    PersonaPlug::load(dir, llm_, encoder_);
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("config.query_source"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("prompts"), std::string::npos) << e.what();
  }
  // A format-2 manifest (before query_source and scores existed) loads with the encoder as query
  // source and cosine scores.
  std::string v2 = manifest;
  v2.replace(v2.find("\"query_source\": \"prompt\","),
             std::string("\"query_source\": \"prompt\",").size(), "");
  v2.replace(v2.find("\"scores\": \"cosine\","), std::string("\"scores\": \"cosine\",").size(), "");
  v2.replace(v2.find("\"format_version\": 4"), std::string("\"format_version\": 4").size(),
             "\"format_version\": 2");
  std::ofstream(dir + "/manifest.json") << v2;
  EXPECT_EQ(PersonaPlug::load(dir, llm_, encoder_)->config().scores, AttentionScores::kCosine);
}

}  // namespace
}  // namespace pplug
