// Plug-in folders and user embeddings refuse what used to load silently: unknown manifest
// fields, out-of-range config values, sizes that disagree with the LLM, a plugin_fingerprint
// that disagrees with the weights, tensors of the wrong dtype, NaN weights, duplicate item ids.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "plug/plugin_module.h"
#include "plug/plugin_training.h"
#include "pplug/error.h"
#include "pplug/persona_plug.h"
#include "pplug/safetensors.h"
#include "support/test_models.h"

namespace pplug {
namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class PluginFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    llm_ = testing::tiny_model_with_tok512(1);
    if (!llm_.model) GTEST_SKIP() << "../shared/models/stories260K is absent";
    encoder_ = make_llm_encoder(llm_.model, llm_.tokenizer);
    PluginConfig c;
    c.task = "LaMP_2";
    plug_ = std::make_shared<PersonaPlug>(llm_, encoder_, c, 4);
    dir_ = testing::temp_dir("plugin_files") + "/p";
    plug_->save(dir_);
    manifest_ = slurp(dir_ + "/manifest.json");
  }

  // Loads the folder with manifest.json's `from` replaced by `to`; expects a FormatError whose
  // message holds every needle.
  void expect_manifest_refused(const std::string& from, const std::string& to,
                               const std::vector<std::string>& needles) {
    std::string changed = manifest_;
    const size_t at = changed.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    changed.replace(at, from.size(), to);
    std::ofstream(dir_ + "/manifest.json", std::ios::binary) << changed;
    expect_refused(needles);
    std::ofstream(dir_ + "/manifest.json", std::ios::binary) << manifest_;
  }

  void expect_refused(const std::vector<std::string>& needles) {
    try {
      PersonaPlug::load(dir_, llm_, encoder_);
      ADD_FAILURE() << "loaded; expected an error with '" << needles.front() << "'";
    } catch (const FormatError& e) {
      for (const auto& n : needles) {
        EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what();
      }
    }
  }

  // Rewrites plugin.safetensors with tensor `name` replaced by `value`.
  void replace_tensor(const std::string& name, const torch::Tensor& value) {
    std::vector<std::pair<std::string, torch::Tensor>> tensors;
    for (const auto& p : pplug::detail::PluginTraining::module(*plug_).named_parameters()) {
      tensors.emplace_back(p.key(), p.key() == name ? value : p.value().detach());
    }
    save_safetensors(dir_ + "/plugin.safetensors", tensors, {{"format", "pplug-plugin"}});
  }

  LoadedModel llm_;
  std::shared_ptr<SentenceEncoder> encoder_;
  std::shared_ptr<PersonaPlug> plug_;
  std::string dir_, manifest_;
};

TEST_F(PluginFilesTest, TheUnchangedFolderLoads) {
  EXPECT_EQ(PersonaPlug::load(dir_, llm_, encoder_)->fingerprint(), plug_->fingerprint());
}

TEST_F(PluginFilesTest, ManifestFieldsAreChecked) {
  expect_manifest_refused("{", "{\n  \"comment\": \"hi\",", {"manifest.json", "'comment'"});
  expect_manifest_refused("\"top_k\": 0", "\"top_k\": -3", {"manifest.json", "top_k", "-3"});
  expect_manifest_refused("\"temperature\": 1.0", "\"temperature\": -1.0",
                          {"manifest.json", "temperature"});
  expect_manifest_refused("\"llm_dim\": 32", "\"llm_dim\": 64",
                          {"manifest.json", "config.llm_dim", "64", "32"});
  expect_manifest_refused("\"hidden_size\": 32", "\"hidden_size\": 48",
                          {"manifest.json", "llm.hidden_size", "48"});
  const std::string fp = "\"plugin_fingerprint\": \"" + plug_->fingerprint() + "\"";
  expect_manifest_refused(fp, "\"plugin_fingerprint\": \"plugin-0000\"",
                          {"plugin.safetensors", "plugin_fingerprint", "plugin-0000"});
}

TEST_F(PluginFilesTest, WeightsOfTheWrongDtypeOrNotFiniteAreRefused) {
  const std::string name = "persona_proj.fc2.weight";
  const auto w = pplug::detail::PluginTraining::module(*plug_).named_parameters()[name].detach();
  replace_tensor(name, w.mul(1000).to(at::kInt));
  expect_refused({"plugin.safetensors", name, "dtype I32"});
  auto nan = w.clone();
  nan[1][2] = std::nan("");
  replace_tensor(name, nan);
  expect_refused({"plugin.safetensors", name, "non-finite"});
  auto inf = w.clone();
  inf[0][0] = INFINITY;
  replace_tensor(name, inf);
  expect_refused({name, "inf"});
}

// A weight edited after saving (finite, right dtype and shape) no longer matches the manifest.
TEST_F(PluginFilesTest, WeightsChangedAfterSavingAreRefused) {
  const std::string name = "persona_proj.fc2.weight";
  replace_tensor(
      name, pplug::detail::PluginTraining::module(*plug_).named_parameters()[name].detach().mul(2));
  expect_refused({"plugin_fingerprint", "weights"});
}

// `pplug eval --plugin RUN_DIR`: a training run folder loads its best/ plug-in, or says which
// subfolder to pass.
TEST_F(PluginFilesTest, ATrainingRunFolderLoadsItsBestPlugin) {
  const std::string run = testing::temp_dir("plugin_run") + "/run";
  fs::create_directories(run);
  std::ofstream(run + "/train_run.json") << "{}";
  try {
    PersonaPlug::load(run, llm_, encoder_);
    ADD_FAILURE() << "loaded a run folder without best/";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("training run folder"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("last/plugin"), std::string::npos) << e.what();
  }
  plug_->save(run + "/best");
  EXPECT_EQ(PersonaPlug::load(run, llm_, encoder_)->fingerprint(), plug_->fingerprint());
}

std::vector<HistoryItem> items(const std::vector<std::string>& ids) {
  std::vector<HistoryItem> out;
  for (const auto& id : ids) {
    HistoryItem item;
    item.id = id;
    item.set("description", "a story about " + id);
    item.set("tag", "comedy");
    out.push_back(item);
  }
  return out;
}

TEST_F(PluginFilesTest, CompactUserEmbeddingsRoundTripAndPersonalizeAlike) {
  const UserEmbedding user = plug_->embed_user(items({"a", "b", "c", "d", "e"}));
  const std::string input = "description: a story about a dog";
  const auto reference = plug_->soft_tokens(user, input);
  const size_t full = user.to_bytes().size();
  // Per element, int8 keeps the largest magnitude of each row exactly and the rest within half
  // a step (max / 254); bf16 within its 8-bit mantissa.
  const auto step = user.item_vectors().abs().amax(1, true) / 254.0;
  for (const std::string vectors : {"f32", "bf16", "int8"}) {
    for (bool projections : {true, false}) {
      EmbeddingStorage storage;
      storage.vectors = vectors;
      storage.projections = projections;
      const std::string bytes = user.to_bytes(storage);
      const auto back = UserEmbedding::from_bytes(bytes, "compact.st");
      const std::string what = vectors + (projections ? " with" : " without") + " projections";
      EXPECT_EQ(back.item_ids(), user.item_ids()) << what;
      EXPECT_EQ(back.item_projections().defined(), projections) << what;
      const auto error = (back.item_vectors() - user.item_vectors()).abs();
      if (vectors == "f32") EXPECT_TRUE(at::equal(back.item_vectors(), user.item_vectors()));
      if (vectors == "bf16") {
        EXPECT_TRUE(at::allclose(back.item_vectors(), user.item_vectors(), 1e-2, 1e-6)) << what;
      }
      if (vectors == "int8") {
        EXPECT_TRUE((error <= step * 1.0001 + 1e-7).all().item<bool>()) << what;
      }
      if (vectors != "f32" || !projections) EXPECT_LT(bytes.size(), full) << what;
      // Soft tokens from the compact form: equal where nothing was rounded, close otherwise
      // (projections left out are recomputed from the stored vectors at the query).
      const auto soft = plug_->soft_tokens(back, input);
      if (vectors == "f32") {
        EXPECT_TRUE(at::allclose(soft, reference, 1e-5, 1e-6)) << what;
      } else {
        EXPECT_TRUE(at::allclose(soft, reference, 5e-2, 5e-3)) << what;
      }
      // Re-encoding what was read back changes nothing (appends rewrite records).
      EXPECT_TRUE(at::equal(UserEmbedding::from_bytes(back.to_bytes(storage)).item_vectors(),
                            back.item_vectors()))
          << what;
    }
  }
  EmbeddingStorage unknown;
  unknown.vectors = "int4";
  EXPECT_THROW(user.to_bytes(unknown), InvalidArgument);
  // An item vector stored in a type the reader does not take is refused by name.
  const std::string forged =
      serialize_safetensors({{"item_vectors", user.item_vectors().to(at::kInt)}},
                            {{"format", "pplug-user-embedding"},
                             {"format_version", "2"},
                             {"item_ids", R"(["a","b","c","d","e"])"},
                             {"encoder_fingerprint", encoder_->fingerprint()},
                             {"plugin_fingerprint", plug_->fingerprint()}});
  try {
    UserEmbedding::from_bytes(forged, "int32.st");
    ADD_FAILURE() << "int32 vectors loaded";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("int32.st: item_vectors has dtype I32"), std::string::npos)
        << e.what();
  }
  // A compact history appended to a full one keeps no projections (they would not line up).
  EmbeddingStorage small;
  small.projections = false;
  const auto compact = UserEmbedding::from_bytes(user.to_bytes(small));
  const auto more = plug_->embed_user(items({"f"}));
  const auto joined = compact.appended(more, 100);
  EXPECT_EQ(joined.num_items(), 6);
  EXPECT_FALSE(joined.item_projections().defined());
  EXPECT_TRUE(user.appended(more, 100).item_projections().defined());
}

TEST_F(PluginFilesTest, UserEmbeddingsWithDuplicateIdsOrNansAreRefused) {
  const UserEmbedding user = plug_->embed_user(items({"a", "b", "", ""}));  // "" may repeat
  const auto back = UserEmbedding::from_bytes(user.to_bytes(), "u.st");
  EXPECT_EQ(back.item_ids(), user.item_ids());
  // Saving a history with one id twice is refused before anything is written.
  const UserEmbedding twice = plug_->embed_user(items({"a", "b", "a"}));
  EXPECT_THROW(twice.to_bytes(), InvalidArgument);
  // Files written by hand (or damaged) are refused when read.
  auto forge = [&](const std::string& ids_json, const torch::Tensor& vectors) {
    return serialize_safetensors(
        {{"item_vectors", vectors}, {"item_projections", user.item_projections()}},
        {{"format", "pplug-user-embedding"},
         {"format_version", "1"},
         {"item_ids", ids_json},
         {"encoder_fingerprint", encoder_->fingerprint()},
         {"plugin_fingerprint", plug_->fingerprint()}});
  };
  try {
    UserEmbedding::from_bytes(forge(R"(["a","b","c","b"])", user.item_vectors()), "dup.st");
    ADD_FAILURE() << "duplicate ids loaded";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("dup.st: item id 'b' appears twice"), std::string::npos)
        << e.what();
  }
  auto nan = user.item_vectors().clone();
  nan[2][5] = std::nan("");
  try {
    UserEmbedding::from_bytes(forge(R"(["a","b","c","d"])", nan), "nan.st");
    ADD_FAILURE() << "NaN vectors loaded";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("nan.st: tensor 'item_vectors'"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace pplug
