// BERT encoder tests on a tiny in-process model (H 32, 2 layers, 4 heads, FFN 64) whose random
// weights are written with save_safetensors under the HF key names.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/nn/module.h>

#include <cmath>
#include <fstream>
#include <map>
#include <set>

#include "models/bert/bert_model.h"
#include "pplug/error.h"
#include "pplug/safetensors.h"
#include "pplug/text_encoder.h"
#include "pplug/wordpiece.h"
#include "support/test_models.h"

namespace pplug {
namespace {

constexpr int64_t kHidden = 32;
constexpr int64_t kLayers = 2;
constexpr int64_t kHeads = 4;
constexpr int64_t kFfn = 64;
constexpr int64_t kMaxPositions = 16;
constexpr int64_t kTypes = 2;
constexpr double kEps = 1e-12;

const char* const kVocabTokens[] = {
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the",   "cat",       "sat",
    "on",    "mat",   "a",     "dog",   "##s",    "quick", "brown",     "fox",
    "jump",  "##ed",  "over",  "lazy",  ".",      ",",     "represent", "this",
    "for",   "query", ":",     "hello", "world",  "!",     "sentence"};
constexpr int64_t kVocabSize = sizeof(kVocabTokens) / sizeof(kVocabTokens[0]);

using Weights = std::vector<std::pair<std::string, torch::Tensor>>;

// HF key -> shape of every BertModel parameter (the pooler is not part of it).
std::vector<std::pair<std::string, std::vector<int64_t>>> bert_shapes(int64_t vocab) {
  std::vector<std::pair<std::string, std::vector<int64_t>>> shapes = {
      {"embeddings.word_embeddings.weight", {vocab, kHidden}},
      {"embeddings.position_embeddings.weight", {kMaxPositions, kHidden}},
      {"embeddings.token_type_embeddings.weight", {kTypes, kHidden}},
      {"embeddings.LayerNorm.weight", {kHidden}},
      {"embeddings.LayerNorm.bias", {kHidden}},
  };
  for (int64_t i = 0; i < kLayers; ++i) {
    const std::string p = "encoder.layer." + std::to_string(i) + ".";
    for (const char* name : {"query", "key", "value"}) {
      shapes.push_back({p + "attention.self." + name + ".weight", {kHidden, kHidden}});
      shapes.push_back({p + "attention.self." + name + ".bias", {kHidden}});
    }
    shapes.push_back({p + "attention.output.dense.weight", {kHidden, kHidden}});
    shapes.push_back({p + "attention.output.dense.bias", {kHidden}});
    shapes.push_back({p + "attention.output.LayerNorm.weight", {kHidden}});
    shapes.push_back({p + "attention.output.LayerNorm.bias", {kHidden}});
    shapes.push_back({p + "intermediate.dense.weight", {kFfn, kHidden}});
    shapes.push_back({p + "intermediate.dense.bias", {kFfn}});
    shapes.push_back({p + "output.dense.weight", {kHidden, kFfn}});
    shapes.push_back({p + "output.dense.bias", {kHidden}});
    shapes.push_back({p + "output.LayerNorm.weight", {kHidden}});
    shapes.push_back({p + "output.LayerNorm.bias", {kHidden}});
  }
  return shapes;
}

// Random weights large enough that every part of the network changes the output.
Weights random_weights(uint64_t seed, int64_t vocab = kVocabSize) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  Weights weights;
  for (const auto& [name, shape] : bert_shapes(vocab)) {
    const bool norm_weight = name.find("LayerNorm.weight") != std::string::npos;
    const double scale = shape.size() == 2 ? 0.3 : 0.1;
    torch::Tensor t = at::normal(0.0, scale, shape, gen);
    if (name.find("_embeddings") != std::string::npos) t = t * 3.0;
    if (norm_weight) t = t + 1.0;
    weights.emplace_back(name, t);
  }
  return weights;
}

std::string config_json(int64_t vocab = kVocabSize, const std::string& extra = "") {
  return "{\"architectures\": [\"BertModel\"], \"model_type\": \"bert\", " + extra +
         "\"vocab_size\": " + std::to_string(vocab) + ", \"hidden_size\": 32, " +
         "\"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"intermediate_size\": 64, " +
         "\"max_position_embeddings\": 16, \"type_vocab_size\": 2, \"layer_norm_eps\": 1e-12, " +
         "\"hidden_act\": \"gelu\", \"hidden_dropout_prob\": 0.1, " +
         "\"attention_probs_dropout_prob\": 0.1, \"pad_token_id\": 0}";
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// A complete tiny BERT folder.
std::string write_tiny_bert(const std::string& tag, const Weights& weights,
                            const std::string& config = config_json()) {
  const std::string dir = testing::temp_dir(tag);
  std::string vocab;
  for (const char* token : kVocabTokens) vocab += std::string(token) + "\n";
  write_text(dir + "/vocab.txt", vocab);
  write_text(dir + "/config.json", config);
  save_safetensors(dir + "/model.safetensors", weights);
  return dir;
}

TextEncoderOptions raw_cls() {
  TextEncoderOptions options;
  options.normalize = false;
  return options;
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

// An exception's message, or "" when `fn` does not throw E.
template <typename E, typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const E& e) {
    return e.what();
  }
  return "";
}

// --- A plain re-computation of BERT, written without the library's modules. ---

torch::Tensor plain_layer_norm(const torch::Tensor& x, const torch::Tensor& w,
                               const torch::Tensor& b) {
  const torch::Tensor mean = x.mean(-1, true);
  const torch::Tensor var = (x - mean).pow(2).mean(-1, true);
  return (x - mean) / (var + kEps).sqrt() * w + b;
}

torch::Tensor plain_linear(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
  return at::matmul(x, w.t()) + b;
}

// Last hidden states (T, H) of one unpadded sequence `ids` (T).
torch::Tensor plain_bert(const Weights& list, const torch::Tensor& ids) {
  std::map<std::string, torch::Tensor> w(list.begin(), list.end());
  const int64_t t = ids.size(0);
  const int64_t hd = kHidden / kHeads;
  torch::Tensor x = w["embeddings.word_embeddings.weight"].index_select(0, ids) +
                    w["embeddings.position_embeddings.weight"].slice(0, 0, t) +
                    w["embeddings.token_type_embeddings.weight"][0];
  x = plain_layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"]);
  for (int64_t i = 0; i < kLayers; ++i) {
    const std::string p = "encoder.layer." + std::to_string(i) + ".";
    const auto lin = [&](const torch::Tensor& in, const std::string& name) {
      return plain_linear(in, w[p + name + ".weight"], w[p + name + ".bias"]);
    };
    const torch::Tensor q = lin(x, "attention.self.query");
    const torch::Tensor k = lin(x, "attention.self.key");
    const torch::Tensor v = lin(x, "attention.self.value");
    std::vector<torch::Tensor> heads;
    for (int64_t h = 0; h < kHeads; ++h) {
      const auto cols = [&](const torch::Tensor& m) { return m.slice(1, h * hd, (h + 1) * hd); };
      const torch::Tensor scores = at::matmul(cols(q), cols(k).t()) / std::sqrt(double(hd));
      heads.push_back(at::matmul(at::softmax(scores, -1), cols(v)));  // (T, hd)
    }
    const torch::Tensor context = at::cat(heads, 1);  // (T, H)
    const torch::Tensor a = plain_layer_norm(lin(context, "attention.output.dense") + x,
                                             w[p + "attention.output.LayerNorm.weight"],
                                             w[p + "attention.output.LayerNorm.bias"]);
    const torch::Tensor f = lin(a, "intermediate.dense");
    const torch::Tensor g = 0.5 * f * (1.0 + at::erf(f / std::sqrt(2.0)));
    x = plain_layer_norm(lin(g, "output.dense") + a, w[p + "output.LayerNorm.weight"],
                         w[p + "output.LayerNorm.bias"]);
  }
  return x;
}

bert::BertModelImpl& bert_module(BertEncoder& encoder) {
  return dynamic_cast<bert::BertModelImpl&>(encoder.module());
}

// --- Tests. ---

TEST(BertModel, ParametersAreTheHfKeys) {
  const auto encoder = BertEncoder::load(write_tiny_bert("bert_keys", random_weights(1)));
  EXPECT_EQ(encoder->dim(), kHidden);
  std::set<std::string> expected;
  for (const auto& item : bert_shapes(kVocabSize)) expected.insert(item.first);
  std::set<std::string> actual;
  for (const auto& item : encoder->module().named_parameters()) actual.insert(item.key());
  EXPECT_EQ(actual, expected);
  EXPECT_EQ(actual.size(), size_t{5 + 16 * kLayers});
}

TEST(BertModel, MatchesPlainRecomputation) {
  const Weights weights = random_weights(2);
  const auto encoder = BertEncoder::load(write_tiny_bert("bert_plain", weights), raw_cls());
  const TokenBatch batch = encoder->tokenize({"the quick brown fox jumped over the lazy dogs."});
  ASSERT_EQ(batch.ids.size(1), 14);  // [CLS] + 12 pieces + [SEP]
  const torch::Tensor hidden = bert_module(*encoder).forward(batch.ids, batch.attention_mask)[0];
  const torch::Tensor expected = plain_bert(weights, batch.ids[0]);
  const double diff = max_abs_diff(hidden, expected);
  std::cout << "bert vs plain recomputation: max_abs_diff " << diff << "\n";
  EXPECT_LT(diff, 1e-4);
  EXPECT_GT(expected.std().item<double>(), 0.5);  // the comparison is not of near-constants
}

TEST(BertModel, PaddingDoesNotChangeASequence) {
  const auto encoder = BertEncoder::load(write_tiny_bert("bert_pad", random_weights(3)), raw_cls());
  const TokenBatch both = encoder->tokenize({"the cat sat on the mat .", "a dog"});
  const TokenBatch alone = encoder->tokenize({"a dog"});
  ASSERT_EQ(both.ids.size(1), 9);
  ASSERT_EQ(alone.ids.size(1), 4);
  EXPECT_EQ(both.attention_mask[1].sum().item<int64_t>(), 4);
  EXPECT_EQ(both.ids[1][5].item<int64_t>(), encoder->tokenizer().pad_id());
  auto& model = bert_module(*encoder);
  const torch::Tensor padded = model.forward(both.ids, both.attention_mask)[1].slice(0, 0, 4);
  const torch::Tensor unpadded = model.forward(alone.ids, alone.attention_mask)[0];
  EXPECT_LT(max_abs_diff(padded, unpadded), 1e-5);
  // Without the mask the padding would leak into the sequence: the test can tell.
  const torch::Tensor unmasked = model.forward(both.ids)[1].slice(0, 0, 4);
  EXPECT_GT(max_abs_diff(unmasked, unpadded), 1e-3);
}

TEST(BertModel, ClsAndMeanPooling) {
  const std::string dir = write_tiny_bert("bert_pool", random_weights(4));
  const std::vector<std::string> texts = {"hello world !", "the cat sat on the mat"};
  const auto cls = BertEncoder::load(dir, raw_cls());
  TextEncoderOptions mean_options = raw_cls();
  mean_options.pooling = TextEncoderOptions::Pooling::kMean;
  const auto mean = BertEncoder::load(dir, mean_options);

  const TokenBatch batch = cls->tokenize(texts);
  const torch::Tensor hidden = bert_module(*cls).forward(batch.ids, batch.attention_mask);
  const torch::Tensor cls_out = cls->encode(texts);
  const torch::Tensor mean_out = mean->encode(texts);
  ASSERT_EQ(cls_out.sizes(), (std::vector<int64_t>{2, kHidden}));
  EXPECT_LT(max_abs_diff(cls_out, hidden.select(1, 0)), 1e-5);
  // Row 0 has 5 real tokens ([CLS] hello world ! [SEP]) out of 8.
  EXPECT_LT(max_abs_diff(mean_out[0], hidden[0].slice(0, 0, 5).mean(0)), 1e-5);
  EXPECT_LT(max_abs_diff(mean_out[1], hidden[1].mean(0)), 1e-5);
  EXPECT_GT(max_abs_diff(cls_out, mean_out), 1e-2);
}

TEST(BertModel, NormalizationGivesUnitVectors) {
  const std::string dir = write_tiny_bert("bert_norm", random_weights(5));
  const std::vector<std::string> texts = {"hello", "a quick brown fox", ""};
  const torch::Tensor raw = BertEncoder::load(dir, raw_cls())->encode(texts);
  const torch::Tensor unit = BertEncoder::load(dir)->encode(texts);
  EXPECT_LT(max_abs_diff(unit.norm(2, {1}), at::ones({3})), 1e-5);
  EXPECT_LT(max_abs_diff(unit, raw / raw.norm(2, {1}, true)), 1e-5);
  EXPECT_GT(raw.norm(2, {1}).min().item<double>(), 1.5);
}

TEST(BertModel, EncodeKeepsOrderWhateverTheBatching) {
  const std::string dir = write_tiny_bert("bert_batch", random_weights(6));
  const std::vector<std::string> texts = {"a", "the cat sat on the mat",     "dog",
                                          "",  "the quick brown fox jumped", "hello world"};
  TextEncoderOptions one = raw_cls();
  one.batch_size = 1;
  const torch::Tensor reference = BertEncoder::load(dir, one)->encode(texts);
  ASSERT_EQ(reference.size(0), 6);
  for (int batch_size : {2, 4, 32}) {
    TextEncoderOptions options = raw_cls();
    options.batch_size = batch_size;
    const torch::Tensor got = BertEncoder::load(dir, options)->encode(texts);
    EXPECT_LT(max_abs_diff(got, reference), 1e-5) << "batch_size " << batch_size;
  }
  EXPECT_EQ(BertEncoder::load(dir)->encode({}).sizes(), (std::vector<int64_t>{0, kHidden}));
}

TEST(BertModel, QueryInstructionIsPrepended) {
  TextEncoderOptions options = raw_cls();
  options.query_instruction = "represent this query : ";
  const auto encoder = BertEncoder::load(write_tiny_bert("bert_query", random_weights(7)), options);
  const torch::Tensor as_query = encoder->encode({"the cat"}, /*as_query=*/true);
  const torch::Tensor spelled = encoder->encode({"represent this query : the cat"});
  const torch::Tensor plain = encoder->encode({"the cat"});
  EXPECT_LT(max_abs_diff(as_query, spelled), 1e-6);
  EXPECT_GT(max_abs_diff(as_query, plain), 1e-3);
  EXPECT_EQ(encoder->tokenize({"the cat"}, true).ids.size(1), 2 + 4 + 2);
}

TEST(BertModel, TruncatesToMaxLength) {
  TextEncoderOptions options = raw_cls();
  options.max_length = 5;
  const auto encoder = BertEncoder::load(write_tiny_bert("bert_trunc", random_weights(8)), options);
  const TokenBatch batch = encoder->tokenize({"the cat sat on the mat"});
  ASSERT_EQ(batch.ids.size(1), 5);
  EXPECT_EQ(batch.ids[0][4].item<int64_t>(), encoder->tokenizer().sep_id());
  EXPECT_LT(
      max_abs_diff(encoder->encode({"the cat sat on the mat"}), encoder->encode({"the cat sat"})),
      1e-6);
  // Options above max_position_embeddings (16) are capped instead of failing.
  TextEncoderOptions wide = raw_cls();
  const auto capped = BertEncoder::load(write_tiny_bert("bert_cap", random_weights(8)), wide);
  std::string many;
  for (int i = 0; i < 40; ++i) many += "cat ";
  EXPECT_EQ(capped->tokenize({many}).ids.size(1), kMaxPositions);
  EXPECT_EQ(capped->encode({many}).size(0), 1);
}

TEST(BertModel, AcceptsBertPrefixAndIgnoresPooler) {
  const Weights weights = random_weights(9);
  Weights prefixed;
  for (const auto& [name, tensor] : weights) prefixed.emplace_back("bert." + name, tensor);
  prefixed.emplace_back("bert.pooler.dense.weight", at::zeros({kHidden, kHidden}));
  prefixed.emplace_back("bert.pooler.dense.bias", at::zeros({kHidden}));
  prefixed.emplace_back("cls.predictions.bias", at::zeros({kVocabSize}));
  const std::vector<std::string> texts = {"hello world", "a dog"};
  const torch::Tensor a =
      BertEncoder::load(write_tiny_bert("bert_plain_keys", weights))->encode(texts);
  const torch::Tensor b =
      BertEncoder::load(write_tiny_bert("bert_prefixed", prefixed))->encode(texts);
  EXPECT_LT(max_abs_diff(a, b), 1e-7);
}

TEST(BertModel, MissingTensorIsAFormatError) {
  Weights weights = random_weights(10);
  const std::string missing = "encoder.layer.1.attention.self.key.bias";
  weights.erase(std::remove_if(weights.begin(), weights.end(),
                               [&](const auto& w) { return w.first == missing; }),
                weights.end());
  const std::string dir = write_tiny_bert("bert_missing", weights);
  const std::string what = error_of<FormatError>([&] { BertEncoder::load(dir); });
  EXPECT_NE(what.find(dir + "/model.safetensors"), std::string::npos) << what;
  EXPECT_NE(what.find(missing), std::string::npos) << what;
}

TEST(BertModel, WrongShapeIsAFormatError) {
  Weights weights = random_weights(11);
  for (auto& [name, tensor] : weights) {
    if (name == "encoder.layer.0.intermediate.dense.weight")
      tensor = at::zeros({kFfn + 1, kHidden});
  }
  const std::string dir = write_tiny_bert("bert_shape", weights);
  const std::string what = error_of<FormatError>([&] { BertEncoder::load(dir); });
  EXPECT_NE(what.find(dir + "/model.safetensors"), std::string::npos) << what;
  EXPECT_NE(what.find("encoder.layer.0.intermediate.dense.weight"), std::string::npos) << what;
  EXPECT_NE(what.find("[65, 32]"), std::string::npos) << what;
}

TEST(BertModel, BadConfigIsAFormatErrorNamingTheField) {
  const Weights weights = random_weights(12);
  const std::string dir = write_tiny_bert("bert_config", weights);
  const std::string config = dir + "/config.json";
  const auto expect_field_error = [&](const std::string& json, const std::string& field) {
    write_text(config, json);
    const std::string what = error_of<FormatError>([&] { BertEncoder::load(dir); });
    EXPECT_NE(what.find(config), std::string::npos) << what;
    EXPECT_NE(what.find(field), std::string::npos) << what;
  };
  std::string no_hidden = config_json();
  no_hidden.replace(no_hidden.find("\"hidden_size\": 32, "), 19, "");
  expect_field_error(no_hidden, "'hidden_size'");
  std::string string_layers = config_json();
  string_layers.replace(string_layers.find("\"num_hidden_layers\": 2"), 22,
                        "\"num_hidden_layers\": \"2\"");
  expect_field_error(string_layers, "'num_hidden_layers'");
  std::string relu = config_json();
  relu.replace(relu.find("\"gelu\""), 6, "\"relu\"");
  expect_field_error(relu, "'hidden_act'");
  expect_field_error(config_json(kVocabSize, "\"position_embedding_type\": \"relative_key\", "),
                     "'position_embedding_type'");
  std::string heads = config_json();
  heads.replace(heads.find("\"num_attention_heads\": 4"), 24, "\"num_attention_heads\": 5");
  expect_field_error(heads, "num_attention_heads");
  expect_field_error("[1, 2]", "JSON object");
}

TEST(BertModel, VocabularyLargerThanTheEmbeddingIsAMismatch) {
  const std::string dir =
      write_tiny_bert("bert_vocab", random_weights(13, 20), config_json(/*vocab=*/20));
  const std::string what = error_of<MismatchError>([&] { BertEncoder::load(dir); });
  EXPECT_NE(what.find("vocab.txt"), std::string::npos) << what;
  EXPECT_NE(what.find("20"), std::string::npos) << what;
  // A larger embedding than the vocabulary is fine (padded vocabularies).
  EXPECT_NO_THROW(BertEncoder::load(
      write_tiny_bert("bert_vocab_big", random_weights(13, 40), config_json(/*vocab=*/40))));
}

TEST(BertModel, FrozenByDefaultAndTrainableOnRequest) {
  const auto encoder = BertEncoder::load(write_tiny_bert("bert_train", random_weights(14)));
  for (const auto& p : encoder->module().parameters()) EXPECT_FALSE(p.requires_grad());
  EXPECT_FALSE(encoder->module().is_training());
  const TokenBatch batch = encoder->tokenize({"the cat sat", "a quick dog"});
  EXPECT_FALSE(encoder->forward(batch).requires_grad());

  encoder->set_trainable(true);
  EXPECT_TRUE(encoder->module().is_training());
  const torch::Tensor out = encoder->forward(batch);  // (2, H)
  ASSERT_TRUE(out.requires_grad());
  out.pow(2).sum().backward();
  std::map<std::string, torch::Tensor> params;
  for (const auto& item : encoder->module().named_parameters()) params[item.key()] = item.value();
  ASSERT_TRUE(params["encoder.layer.0.attention.self.query.weight"].grad().defined());
  EXPECT_GT(params["encoder.layer.0.attention.self.query.weight"].grad().abs().sum().item<double>(),
            0.0);
  // Dropout is active in training mode only.
  EXPECT_GT(max_abs_diff(encoder->forward(batch), encoder->forward(batch)), 1e-6);
  encoder->set_trainable(false);
  EXPECT_LT(max_abs_diff(encoder->forward(batch), encoder->forward(batch)), 1e-7);
}

TEST(BertModel, SaveRoundTrips) {
  const auto encoder = BertEncoder::load(write_tiny_bert("bert_save_src", random_weights(15)));
  {
    torch::NoGradGuard no_grad;  // a "trained" change that must survive the round trip
    for (auto& p : encoder->module().parameters()) p.add_(0.01);
  }
  const std::string out = testing::temp_dir("bert_save_dst");
  encoder->save(out);
  const std::vector<std::string> texts = {"hello world", "the lazy fox"};
  EXPECT_LT(max_abs_diff(BertEncoder::load(out)->encode(texts), encoder->encode(texts)), 1e-7);
}

TEST(BertModel, WriteRandomBertIsReproducible) {
  const std::string src = write_tiny_bert("bert_random_vocab", random_weights(16));
  BertShape shape;
  shape.hidden_size = 16;
  shape.num_hidden_layers = 1;
  shape.num_attention_heads = 2;
  shape.intermediate_size = 24;
  shape.max_position_embeddings = 12;
  const std::string a = testing::temp_dir("bert_random_a");
  const std::string b = testing::temp_dir("bert_random_b");
  const std::string c = testing::temp_dir("bert_random_c");
  write_random_bert(a, shape, src + "/vocab.txt", 42);
  write_random_bert(b, shape, src + "/vocab.txt", 42);
  write_random_bert(c, shape, src + "/vocab.txt", 43);
  const auto encoder = BertEncoder::load(a);
  EXPECT_EQ(encoder->dim(), 16);
  EXPECT_EQ(encoder->tokenizer().vocab_size(), kVocabSize);
  const std::vector<std::string> texts = {"the cat", "hello world !"};
  EXPECT_LT(max_abs_diff(encoder->encode(texts), BertEncoder::load(b)->encode(texts)), 1e-7);
  EXPECT_GT(max_abs_diff(encoder->encode(texts), BertEncoder::load(c)->encode(texts)), 1e-4);
  SafetensorsFile file(a + "/model.safetensors");
  const torch::Tensor word = file.get("embeddings.word_embeddings.weight", torch::kFloat32);
  EXPECT_NEAR(word.std().item<double>(), 0.02, 0.003);
  EXPECT_LT(max_abs_diff(file.get("encoder.layer.0.output.LayerNorm.weight", torch::kFloat32),
                         at::ones({16})),
            0.0 + 1e-12);
}

}  // namespace
}  // namespace pplug
