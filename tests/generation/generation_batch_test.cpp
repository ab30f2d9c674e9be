// Continuous batching: groups that join a running decode at different steps, with different
// prompts, options and lengths, each give what Generator gives them alone (the reference: the
// plain batch-of-one path, itself checked against llama2.c's outputs and a manual argmax loop).
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <map>

#include "pplug/error.h"
#include "pplug/generation.h"
#include "pplug/t5_io.h"
#include "pplug/t5_model.h"
#include "support/stories260k_fixture.h"
#include "support/test_models.h"

namespace pplug {
namespace {

// Steps until every group is done; results by group id, and the step each group finished at.
struct Drained {
  std::map<uint64_t, std::vector<GenerationResult>> results;
  std::map<uint64_t, int> finished_at;
};
void drain(GenerationBatch& batch, Drained& out, int& step, int steps = 1 << 20) {
  for (int i = 0; i < steps && !batch.empty(); ++i, ++step) {
    for (auto& done : batch.step()) {
      out.results[done.group] = std::move(done.results);
      out.finished_at[done.group] = step;
    }
  }
}

void expect_same(const std::vector<GenerationResult>& got,
                 const std::vector<GenerationResult>& alone, const std::string& what) {
  ASSERT_EQ(got.size(), alone.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].generated_ids, alone[i].generated_ids) << what << " row " << i;
    EXPECT_EQ(got[i].text, alone[i].text) << what << " row " << i;
    EXPECT_EQ(got[i].finish_reason, alone[i].finish_reason) << what << " row " << i;
    EXPECT_EQ(got[i].prompt_ids, alone[i].prompt_ids) << what << " row " << i;
    EXPECT_NEAR(got[i].log_prob, alone[i].log_prob, 1e-3) << what << " row " << i;
  }
}

class GenerationBatchTest : public testing::Stories260KTest {};

TEST_F(GenerationBatchTest, GroupsJoiningARunningDecodeEqualEachAlone) {
  GenerationOptions long_run;
  long_run.max_new_tokens = 40;
  GenerationOptions short_run;
  short_run.max_new_tokens = 6;
  GenerationOptions sampled;
  sampled.max_new_tokens = 12;
  sampled.temperature = 0.9f;
  sampled.top_p = 0.9f;
  sampled.seed = 17;
  GenerationOptions stopping;
  stopping.max_new_tokens = 30;
  stopping.stop_strings = {"."};
  // A prompt longer than the running rows' span (the cache grows to the left) and a short one.
  const std::string long_prompt =
      "Once upon a time, there was a little girl named Lily. She loved to play outside in the sun "
      "with her big red ball";

  GenerationBatch batch(*generator_);
  Drained got;
  int step = 0;
  const uint64_t a = batch.add_text({"Once upon a time"}, long_run);
  drain(batch, got, step, 5);
  const uint64_t b = batch.add_text({long_prompt}, short_run);
  EXPECT_EQ(batch.sequences(), 2u);
  drain(batch, got, step, 3);
  const uint64_t c = batch.add_text({"Tim had a dog", "Tim had a dog"}, sampled);  // n = 2
  const uint64_t d = batch.add_text({"The sun"}, stopping);
  EXPECT_EQ(batch.groups(), 4u);
  drain(batch, got, step);
  EXPECT_TRUE(batch.empty());

  expect_same(got.results[a],
              generator_->generate(std::vector<std::string>{"Once upon a time"}, long_run), "a");
  expect_same(got.results[b],
              generator_->generate(std::vector<std::string>{long_prompt}, short_run), "b");
  expect_same(
      got.results[c],
      generator_->generate(std::vector<std::string>{"Tim had a dog", "Tim had a dog"}, sampled),
      "c");
  expect_same(got.results[d], generator_->generate(std::vector<std::string>{"The sun"}, stopping),
              "d");
  // The short request left while the long one was still decoding.
  EXPECT_LT(got.finished_at[b], got.finished_at[a]);
  EXPECT_EQ(got.results[a][0].generated_ids.size(), 40u);
}

TEST_F(GenerationBatchTest, StreamingAndCallbacksStayWithTheirGroup) {
  std::map<uint64_t, std::string> streamed;
  GenerationBatch batch(*generator_);
  GenerationOptions first;
  first.max_new_tokens = 20;
  uint64_t a = 0, b = 0;
  first.on_text = [&](size_t, const std::string& delta) {
    streamed[a] += delta;
    return true;
  };
  GenerationOptions stopped = first;
  stopped.on_text = [&](size_t, const std::string& delta) {
    streamed[b] += delta;
    return streamed[b].size() < 8;  // the client goes away after a few characters
  };
  a = batch.add_text({"Lily went to the park"}, first);
  Drained got;
  int step = 0;
  drain(batch, got, step, 4);
  b = batch.add_text({"The cat"}, stopped);
  drain(batch, got, step);
  EXPECT_EQ(streamed[a], got.results[a][0].text);
  EXPECT_EQ(got.results[b][0].finish_reason, FinishReason::kCallback);
  EXPECT_EQ(got.results[a][0].generated_ids,
            generator_->generate("Lily went to the park", first).generated_ids);
}

TEST_F(GenerationBatchTest, ARefusedGroupLeavesTheRunningOnesAlone) {
  GenerationOptions o;
  o.max_new_tokens = 10;
  GenerationBatch batch(*generator_);
  Drained got;
  int step = 0;
  const uint64_t a = batch.add_text({"Once upon a time"}, o);
  drain(batch, got, step, 3);
  GenerationOptions beams = o;
  beams.num_beams = 2;
  EXPECT_THROW(batch.add_text({"The dog"}, beams), InvalidArgument);
  std::string too_long;
  for (int i = 0; i < 400; ++i) too_long += "dog ";  // beyond stories260K's 512 positions
  EXPECT_THROW(batch.add_text({too_long}, o), InvalidArgument);
  GenerationOptions bad = o;
  bad.top_p = 0;
  EXPECT_THROW(batch.add_text({"The dog"}, bad), InvalidArgument);
  EXPECT_THROW(batch.add({}, o), InvalidArgument);
  EXPECT_EQ(batch.groups(), 1u);
  drain(batch, got, step);
  expect_same(got.results[a], generator_->generate(std::vector<std::string>{"Once upon a time"}, o),
              "a");
}

TEST_F(GenerationBatchTest, AGroupNearTheContextLimitStopsWhereItWouldAlone) {
  // A prompt that leaves room for only a few tokens joins a row with a long budget.
  const auto max_positions = loaded_.model->config().max_position_embeddings;
  std::string text;
  while (static_cast<int64_t>(loaded_.tokenizer->encode(text).size()) < max_positions - 6) {
    text += "a ";
  }
  GenerationOptions o;
  o.max_new_tokens = 30;
  o.stop_at_eos = false;
  GenerationBatch batch(*generator_);
  Drained got;
  int step = 0;
  const uint64_t a = batch.add_text({"Once"}, o);
  drain(batch, got, step, 2);
  const uint64_t b = batch.add_text({text}, o);
  drain(batch, got, step);
  const auto alone = generator_->generate(std::vector<std::string>{text}, o);
  expect_same(got.results[b], alone, "near the limit");
  EXPECT_LT(alone[0].generated_ids.size(), 30u);
  expect_same(got.results[a], generator_->generate(std::vector<std::string>{"Once"}, o), "a");
}

TEST(GenerationBatch, BFloat16RowsJoinExactly) {
  // A tiny random model at bf16 (its KV cache in bf16): joined rows equal each alone.
  auto model = testing::tiny_model(3, 512, torch::kBFloat16);
  const std::string tok = testing::shared_model_path("stories260K/tok512.model");
  if (tok.empty()) GTEST_SKIP() << "../shared/models/stories260K is absent";
  Generator generator(model, std::make_shared<const Tokenizer>(tok));
  GenerationOptions o;
  o.max_new_tokens = 12;
  o.stop_at_eos = false;
  GenerationBatch batch(generator);
  Drained got;
  int step = 0;
  const std::vector<std::string> prompts = {"One day", "A big dog ran to the park and saw", "Hi"};
  std::vector<uint64_t> ids;
  for (const auto& p : prompts) {
    ids.push_back(batch.add_text({p}, o));
    drain(batch, got, step, 2);
  }
  drain(batch, got, step);
  for (size_t i = 0; i < prompts.size(); ++i) {
    expect_same(got.results[ids[i]], generator.generate(std::vector<std::string>{prompts[i]}, o),
                prompts[i]);
  }
}

TEST(GenerationBatch, AnEncoderDecoderTakesGroupsOnlyBeforeItsFirstStep) {
  const std::string tok = testing::shared_model_path("stories260K/tok512.model");
  if (tok.empty()) GTEST_SKIP() << "../shared/models/stories260K is absent";
  auto tokenizer = std::make_shared<const Tokenizer>(tok);
  T5Config c = testing::tiny_t5_config(/*flan=*/true);
  c.vocab_size = 512;
  c.eos_token_id = tokenizer->eos_id();
  const auto raw = random_t5_model(c, 7, /*init_std=*/0.3);
  Generator generator(make_language_model(std::make_shared<const T5Model>(raw.config, raw.weights)),
                      tokenizer);
  GenerationOptions o;
  o.max_new_tokens = 8;
  GenerationOptions other = o;
  other.max_new_tokens = 5;
  GenerationBatch batch(generator);
  EXPECT_TRUE(batch.can_join());
  const uint64_t a = batch.add_text({"The little dog"}, o);
  const uint64_t b = batch.add_text({"A cat sat on the big warm mat all day"}, other);
  EXPECT_TRUE(batch.can_join());
  Drained got;
  int step = 0;
  drain(batch, got, step, 1);
  EXPECT_FALSE(batch.can_join());
  EXPECT_THROW(batch.add_text({"Late"}, o), InvalidArgument);
  drain(batch, got, step);
  EXPECT_TRUE(batch.can_join());
  expect_same(got.results[a], generator.generate(std::vector<std::string>{"The little dog"}, o),
              "a");
  expect_same(
      got.results[b],
      generator.generate(std::vector<std::string>{"A cat sat on the big warm mat all day"}, other),
      "b");
}

}  // namespace
}  // namespace pplug
