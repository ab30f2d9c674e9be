// T5 behind the LanguageModel interface: generation, scoring and teacher forcing through it
// equal what T5Model computes directly (its greedy decoding is checked against HF's formulas and
// llama.cpp elsewhere), and the soft-token path (embeddings) equals the token path.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "pplug/error.h"
#include "pplug/generation.h"
#include "pplug/language_model.h"
#include "pplug/t5_generation.h"
#include "pplug/t5_io.h"
#include "support/test_models.h"

namespace pplug {
namespace {

class T5LanguageModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string tok = testing::shared_model_path("stories260K/tok512.model");
    if (tok.empty()) GTEST_SKIP() << "../shared/models/stories260K is absent";
    tokenizer_ = std::make_shared<const Tokenizer>(tok);
    build(512);
  }
  // A FlanT5-layout model over the 512-piece tokenizer, its embedding `vocab` rows.
  void build(int64_t vocab) {
    T5Config c = testing::tiny_t5_config(/*flan=*/true);
    c.vocab_size = vocab;
    c.eos_token_id = tokenizer_->eos_id();
    const auto raw = random_t5_model(c, 7, /*init_std=*/0.3);
    t5_ = std::make_shared<const T5Model>(raw.config, raw.weights);
    lm_ = make_language_model(t5_);
  }
  std::vector<int> framed(const std::string& text) const {
    return tokenizer_->encode(text, /*add_bos=*/false, /*add_eos=*/true);
  }
  // log p(candidate | prompt ids) from T5Model::encode / decode directly.
  double direct_log_prob(const std::vector<int>& prompt, const std::vector<int>& candidate) const {
    auto ids = at::tensor(std::vector<int64_t>(prompt.begin(), prompt.end())).unsqueeze(0);
    const auto states = t5_->encode(t5_->embed(ids));
    std::vector<int64_t> in = {t5_->config().decoder_start_token_id};
    in.insert(in.end(), candidate.begin(), candidate.end() - 1);
    const auto logits =
        t5_->decode(t5_->embed(at::tensor(in).unsqueeze(0)), {}, states, {}).logits[0];
    const auto lp = logits.log_softmax(-1);
    double total = 0;
    for (size_t t = 0; t < candidate.size(); ++t) total += lp[t][candidate[t]].item<double>();
    return total;
  }

  std::shared_ptr<const Tokenizer> tokenizer_;
  std::shared_ptr<const T5Model> t5_;
  std::shared_ptr<const LanguageModel> lm_;
};

TEST_F(T5LanguageModelTest, DescribesAnEncoderDecoder) {
  EXPECT_EQ(lm_->architecture(), "t5");
  EXPECT_TRUE(lm_->is_encoder_decoder());
  EXPECT_EQ(lm_->decoder_only(), nullptr);
  EXPECT_EQ(lm_->hidden_size(), 32);
  EXPECT_EQ(lm_->num_layers(), 4);
  EXPECT_EQ(lm_->fingerprint(), t5_->fingerprint());
  EXPECT_TRUE(lm_->prompt_start_ids(*tokenizer_).empty());
  EXPECT_EQ(lm_->prompt_end_ids(*tokenizer_), std::vector<int>{tokenizer_->eos_id()});
}

TEST_F(T5LanguageModelTest, GreedyGenerationEqualsT5Greedy) {
  const Generator generator(lm_, tokenizer_);
  const std::vector<std::string> texts = {"Once upon a time", "the cat sat", "a big red dog ran"};
  GenerationOptions options;
  options.max_new_tokens = 12;
  const auto results = generator.generate(texts, options);
  ASSERT_EQ(results.size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    const auto ids = framed(texts[i]);
    EXPECT_EQ(results[i].prompt_ids, ids);
    T5GenerationOptions greedy;
    greedy.max_new_tokens = 12;
    auto expected =
        t5_generate_greedy(*t5_, {std::vector<int64_t>(ids.begin(), ids.end())}, greedy).front();
    const bool ended = !expected.empty() && expected.back() == tokenizer_->eos_id();
    if (ended) expected.pop_back();  // GenerationResult leaves EOS out
    EXPECT_EQ(
        std::vector<int64_t>(results[i].generated_ids.begin(), results[i].generated_ids.end()),
        expected)
        << texts[i];
    EXPECT_EQ(results[i].finish_reason, ended ? FinishReason::kEos : FinishReason::kLength);
    EXPECT_EQ(results[i].text, tokenizer_->decode(results[i].generated_ids));
  }
}

TEST_F(T5LanguageModelTest, EmbeddedPromptsEqualTokenPrompts) {
  const Generator generator(lm_, tokenizer_);
  const auto ids = framed("a little girl found a ball");
  GenerationOptions options;
  options.max_new_tokens = 10;
  options.temperature = 0.9f;
  options.seed = 4;
  const auto from_ids = generator.generate_ids({ids}, options).front();
  const auto embeds = lm_->embed(at::tensor(std::vector<int64_t>(ids.begin(), ids.end())));
  const auto from_embeds = generator.generate_embedded({{embeds, -1}}, options).front();
  EXPECT_EQ(from_embeds.generated_ids, from_ids.generated_ids);
  EXPECT_NEAR(from_embeds.log_prob, from_ids.log_prob, 1e-4);
}

TEST_F(T5LanguageModelTest, CandidateScoresAreTeacherForcedLogProbs) {
  const Generator generator(lm_, tokenizer_);
  const std::vector<std::vector<int>> prompts = {framed("Which tag fits?"), framed("Rate it")};
  const std::vector<std::vector<int>> candidates = {
      tokenizer_->encode("comedy"), tokenizer_->encode("action film"), {5}};
  std::vector<EmbeddedPrompt> embedded;
  for (const auto& p : prompts) {
    embedded.push_back({lm_->embed(at::tensor(std::vector<int64_t>(p.begin(), p.end()))), -1});
  }
  const auto scores = generator.score_candidates(embedded, candidates);
  ASSERT_EQ(scores.size(), 2u);
  for (size_t p = 0; p < prompts.size(); ++p) {
    for (size_t c = 0; c < candidates.size(); ++c) {
      EXPECT_NEAR(scores[p][c], direct_log_prob(prompts[p], candidates[c]), 1e-4);
    }
  }
}

TEST_F(T5LanguageModelTest, TargetCrossEntropyIsDifferentiableInThePrompt) {
  const std::vector<std::vector<int>> prompts = {framed("the sun"), framed("a cat and a dog")};
  const std::vector<std::vector<int>> targets = {tokenizer_->encode("was hot"),
                                                 {tokenizer_->encode("played")[0]}};
  std::vector<torch::Tensor> rows;
  for (const auto& p : prompts) {
    rows.push_back(lm_->embed(at::tensor(std::vector<int64_t>(p.begin(), p.end())))
                       .detach()
                       .requires_grad_(true));
  }
  const auto loss = lm_->target_cross_entropy(rows, targets);
  const double expected =
      -(direct_log_prob(prompts[0], targets[0]) + direct_log_prob(prompts[1], targets[1]));
  EXPECT_NEAR(loss.item<double>(), expected, 1e-4);
  loss.backward();
  for (const auto& r : rows) {
    ASSERT_TRUE(r.grad().defined());
    EXPECT_GT(r.grad().abs().sum().item<double>(), 0.0);
  }
}

TEST_F(T5LanguageModelTest, BeamSearchScoresWhatItReturns) {
  const Generator generator(lm_, tokenizer_);
  const auto ids = framed("Once upon a time");
  GenerationOptions options;
  options.max_new_tokens = 6;
  options.num_beams = 3;
  const auto result = generator.generate_ids({ids}, options).front();
  ASSERT_FALSE(result.generated_ids.empty());
  auto scored = result.generated_ids;
  if (result.finish_reason == FinishReason::kEos) scored.push_back(tokenizer_->eos_id());
  EXPECT_NEAR(result.log_prob, direct_log_prob(ids, scored), 1e-3);
  // Deterministic.
  EXPECT_EQ(generator.generate_ids({ids}, options).front().generated_ids, result.generated_ids);
}

TEST_F(T5LanguageModelTest, IdsWithoutAPieceAreNeverGenerated) {
  build(640);  // HF pads T5's embedding past its tokenizer's pieces (32128 rows, 32000 pieces)
  const Generator generator(lm_, tokenizer_);
  GenerationOptions options;
  options.max_new_tokens = 40;
  options.temperature = 2.0f;
  options.stop_at_eos = false;
  int64_t generated = 0;
  for (uint64_t seed = 0; seed < 5; ++seed) {
    options.seed = seed;
    for (const auto& r :
         generator.generate(std::vector<std::string>{"the cat", "a dog"}, options)) {
      for (int id : r.generated_ids) EXPECT_LT(id, tokenizer_->vocab_size());
      generated += static_cast<int64_t>(r.generated_ids.size());
    }
  }
  EXPECT_EQ(generated, 5 * 2 * 40);
  // A tokenizer with more pieces than the model has rows is refused.
  build(500);
  EXPECT_THROW(Generator(lm_, tokenizer_), MismatchError);
}

TEST_F(T5LanguageModelTest, PromptTailsAreRefused) {
  const auto ids = framed("x");
  const std::vector<EmbeddedPrompt> prompts = {
      {lm_->embed(at::tensor(std::vector<int64_t>(ids.begin(), ids.end()))), -1}};
  PromptTail tail;
  tail.length = 1;
  tail.make = [](const torch::Tensor& h, const torch::Tensor&, const std::vector<size_t>&) {
    return h.narrow(1, 0, 1);
  };
  const Generator generator(lm_, tokenizer_);
  EXPECT_THROW(generator.generate_embedded(prompts, GenerationOptions{}, tail), InvalidArgument);
}

}  // namespace
}  // namespace pplug
