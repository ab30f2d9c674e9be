// The trainer's loss over cached frozen prefixes equals the loss of the whole row run through
// the LLM at once (the plain definition), in value and in every plug-in gradient, whether the
// prefixes are kept for the run or recomputed per micro-batch.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <map>

#include "plug/plugin_module.h"
#include "plug/plugin_training.h"
#include "pplug/error.h"
#include "pplug/text_encoder.h"
#include "support/test_models.h"
#include "train/batch_loss.h"

namespace pplug {
namespace {

// Users with histories of different lengths and inputs of different lengths, so rows pad.
LabelledSplit uneven_split() {
  LabelledSplit split;
  const char* tags[] = {"comedy", "action", "romance"};
  for (int u = 0; u < 6; ++u) {
    lamp::Question q;
    q.id = "q" + std::to_string(u);
    q.input = "Which tag? description: a movie about a dog" + std::string(u * 3, '!') +
              " and a cat number " + std::to_string(u);
    for (int i = 0; i <= u % 4; ++i) {
      HistoryItem item;
      item.id = q.id + "-h" + std::to_string(i);
      item.set("description", "a story of part " + std::to_string(i * u));
      item.set("tag", tags[(u + i) % 3]);
      q.profile.push_back(item);
    }
    split.golds.push_back({q.id, tags[u % 3]});
    split.questions.push_back(std::move(q));
  }
  return split;
}

// The plain definition: left-padded rows [BOS][prompt start][soft][prompt rest][target], the
// whole row through the LLM with autograd, loss on the target tokens.
torch::Tensor whole_row_loss(const PersonaPlug& plug, detail::PluginModuleImpl& module,
                             const detail::TrainData& data,
                             const std::vector<const detail::TrainExample*>& batch) {
  const LlamaModel& llm = *plug.llm().model;
  auto soft = detail::soft_tokens(module, data, batch);
  const int64_t B = soft.size(0), n_soft = soft.size(1), d = llm.hidden_size();
  int64_t longest = 0;
  for (const auto* ex : batch) {
    longest = std::max<int64_t>(longest, 1 + n_soft + ex->prompt.size() + ex->target.size());
  }
  std::vector<torch::Tensor> rows;
  auto mask = at::zeros({B, longest}, at::kLong);
  auto labels = at::full({B, longest}, -100, at::kLong);
  for (int64_t b = 0; b < B; ++b) {
    const auto* ex = batch[b];
    std::vector<int64_t> ids{plug.llm().tokenizer->bos_id()};
    ids.insert(ids.end(), ex->prompt.begin(), ex->prompt.end());
    ids.insert(ids.end(), ex->target.begin(), ex->target.end());
    auto tok = llm.embed(at::tensor(ids, at::kLong)).to(at::kFloat);
    const auto n = static_cast<int64_t>(ids.size()) + n_soft;
    const int64_t pad = longest - n,
                  split = pplug::detail::PluginTraining::soft_token_offset(plug, ex->prompt.size());
    rows.push_back(at::cat({at::zeros({pad, d}), tok.narrow(0, 0, split), soft[b],
                            tok.narrow(0, split, static_cast<int64_t>(ids.size()) - split)}));
    mask[b].narrow(0, pad, n).fill_(1);
    for (size_t i = 0; i < ex->target.size(); ++i) {
      labels[b][pad + n_soft + static_cast<int64_t>(ex->prompt.size() + i)] = ex->target[i];
    }
  }
  auto logits = llm.forward(at::stack(rows), mask).logits;
  return at::cross_entropy_loss(logits.view({-1, logits.size(-1)}), labels.view({-1}), {},
                                at::Reduction::Mean, -100);
}

struct LossAndGrads {
  double loss;
  std::map<std::string, torch::Tensor> grads;
};

template <typename F>
LossAndGrads run(detail::PluginModuleImpl& module, F&& loss_fn) {
  module.zero_grad();
  auto loss = loss_fn();
  loss.backward();
  torch::Tensor value = loss;
  LossAndGrads out{value.item<double>(), {}};
  for (const auto& p : module.named_parameters()) {
    if (p.value().grad().defined()) out.grads[p.key()] = p.value().grad().clone();
  }
  return out;
}

class BatchLossTest : public ::testing::TestWithParam<SoftTokenPlacement> {};

TEST_P(BatchLossTest, CachedPrefixesGiveTheWholeRowLossAndGradients) {
  const std::string tok = testing::shared_model_path("stories260K/tok512.model");
  if (tok.empty()) GTEST_SKIP() << "../shared/models/stories260K is absent";
  const auto raw = random_model(testing::tiny_config(), 1, 0.3);
  LoadedModel llm;
  llm.model = std::make_shared<const LlamaModel>(raw.config, raw.weights);
  llm.tokenizer = std::make_shared<const Tokenizer>(tok);
  PluginConfig c;
  c.task = "LaMP_2";
  c.placement = GetParam();
  c.num_persona_tokens = 2;
  c.end_with_eos = true;
  PersonaPlug plug(llm, make_llm_encoder(llm.model, llm.tokenizer), c, 5);
  TrainOptions o;
  const auto data = detail::prepare_train_data(plug, uneven_split(), o);
  std::vector<const detail::TrainExample*> batch;
  for (const auto& ex : data.examples) batch.push_back(&ex);

  auto& module = pplug::detail::PluginTraining::module(plug);
  const detail::FrozenPrefixes kept(plug, data, size_t{1} << 30);
  const detail::FrozenPrefixes per_step(plug, data, 0);
  ASSERT_TRUE(kept.stored());
  ASSERT_FALSE(per_step.stored());
  const auto reference = run(module, [&] { return whole_row_loss(plug, module, data, batch); });
  for (const auto* prefixes : {&kept, &per_step}) {
    const auto got =
        run(module, [&] { return detail::batch_loss(plug, module, data, *prefixes, batch); });
    EXPECT_NEAR(got.loss, reference.loss, 1e-5 * std::abs(reference.loss));
    ASSERT_EQ(got.grads.size(), reference.grads.size());
    for (const auto& [name, g] : reference.grads) {
      const double scale = std::max(1e-3, g.abs().max().item<double>());
      EXPECT_LT((got.grads.at(name) - g).abs().max().item<double>(), 1e-4 * scale) << name;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Placements, BatchLossTest,
                         ::testing::Values(SoftTokenPlacement::kAfterBos,
                                           SoftTokenPlacement::kBeforeAnswer));

TEST(CachedPrefixTest, RowsComeBackAndWrongShapesAreRefused) {
  const auto raw = random_model(testing::tiny_config(), 2, 0.1);
  const LlamaModel llm(raw.config, raw.weights);
  torch::NoGradGuard no_grad;
  // Two prompts of 3 and 5 tokens, left-padded; their cached rows rebuilt into a new cache
  // must continue exactly as the original cache does.
  auto ids = at::tensor(std::vector<int64_t>{0, 0, 7, 8, 9, 1, 2, 3, 4, 5}, at::kLong).view({2, 5});
  auto mask = (ids != 0).to(at::kLong);
  mask[1].fill_(1);
  KVCache original(llm, 2, 8);
  llm.forward(llm.embed(ids), mask, &original);
  const auto first = original.extract_row(0), second = original.extract_row(1);
  EXPECT_EQ(first.length, 3);
  EXPECT_EQ(second.length, 5);
  KVCache rebuilt(llm, {&first, &second}, 3);
  EXPECT_EQ(rebuilt.length(), 5);
  const auto next = llm.embed(at::tensor(std::vector<int64_t>{10, 11}, at::kLong).view({2, 1}));
  const auto a = llm.forward(next, {}, &original).logits;
  const auto b = llm.forward(next, {}, &rebuilt).logits;
  EXPECT_LT((a - b).abs().max().item<double>(), 1e-5);

  CachedPrefix bad = first;
  bad.keys[0] = bad.keys[0].narrow(1, 0, 2);
  EXPECT_THROW(KVCache(llm, {&bad}, 1), InvalidArgument);
  EXPECT_THROW(original.extract_row(2), InvalidArgument);
}

}  // namespace
}  // namespace pplug
