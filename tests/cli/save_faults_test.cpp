// Saves under faults: `pplug embed` (one user-embedding file) and `pplug plugin-init` (a plug-in
// folder) killed with SIGKILL at moments spread over their run, and run with a full disk
// (RLIMIT_FSIZE) or a read-only folder. Afterwards the output is the complete old state or the
// complete new one, a retry succeeds, and nothing else is left in the folder. (`pplug train`
// has its own kill test: train_kill_test.cpp.) Real stories260K.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/cli_run.h"
#include "support/cli_spawn.h"
#include "support/test_models.h"

namespace pplug {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::set<std::string> listing(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

std::string fingerprint_of(const std::string& plugin_dir) {
  const auto j = nlohmann::json::parse(testing::slurp(plugin_dir + "/manifest.json"));
  return j["plugin_fingerprint"].get<std::string>();
}

void copy_tree(const std::string& from, const std::string& to) {
  fs::remove_all(to);
  fs::copy(from, to, fs::copy_options::recursive);
}

class SaveFaultsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = testing::shared_model_path("stories260K/stories260K.bin");
    if (model_.empty()) return;
    dir_ = testing::temp_dir("save_faults");
    write(dir_ + "/old_history.json",
          R"([{"id": "a", "text": "The dog ran to the park.", "score": "5"}])");
    write(dir_ + "/new_history.json", R"([
      {"id": "b", "text": "The cat was sad because it rained.", "score": "2"},
      {"id": "c", "text": "Lily liked to eat cake with her mom.", "score": "4"}])");
    ok_ = run({"plugin-init", "--model", model_, "--task", "LaMP_3", "--seed", "7", "--out",
               dir_ + "/old_plugin"}) &&
          run({"plugin-init", "--model", model_, "--task", "LaMP_3", "--seed", "8", "--out",
               dir_ + "/new_plugin"}) &&
          run(embed_args(dir_ + "/old_history.json", dir_ + "/old_user.safetensors"));
    const auto t0 = Clock::now();
    ok_ = ok_ && run(embed_args(dir_ + "/new_history.json", dir_ + "/new_user.safetensors"));
    embed_time_ = Clock::now() - t0;
  }

  void SetUp() override {
    if (model_.empty()) GTEST_SKIP() << "../shared/models/stories260K is absent";
    ASSERT_TRUE(ok_) << "setting up the fixture's plug-ins and users failed (see " << dir_ << ")";
  }

  static bool run(const std::vector<std::string>& args) {
    static int counter = 0;
    return testing::wait_child(testing::spawn_pplug(
               args, dir_ + "/setup" + std::to_string(counter++) + ".log")) == 0;
  }

  static std::vector<std::string> embed_args(const std::string& history, const std::string& out) {
    return {"embed",     "--model", model_,  "--plugin", dir_ + "/old_plugin", "--threads", "1",
            "--history", history,   "--out", out};
  }
  static std::vector<std::string> init_args(const std::string& out) {
    return {"plugin-init", "--model", model_, "--task", "LaMP_3", "--seed", "8", "--out", out};
  }

  // Starts `args` and kills it after `delay`; true when the kill came before it ended.
  static bool kill_after(const std::vector<std::string>& args, const std::string& log,
                         Clock::duration delay) {
    const pid_t child = testing::spawn_pplug(args, log);
    std::this_thread::sleep_for(delay);
    ::kill(child, SIGKILL);
    return testing::wait_child(child) == -SIGKILL;
  }

  static std::string model_, dir_;
  static bool ok_;
  static Clock::duration embed_time_;
};

std::string SaveFaultsTest::model_, SaveFaultsTest::dir_;
bool SaveFaultsTest::ok_ = false;
Clock::duration SaveFaultsTest::embed_time_{};

TEST_F(SaveFaultsTest, EmbedKilledAtAnyMomentLeavesTheOldOrTheNewFile) {
  const std::string old_bytes = testing::slurp(dir_ + "/old_user.safetensors");
  const std::string new_bytes = testing::slurp(dir_ + "/new_user.safetensors");
  ASSERT_NE(old_bytes, new_bytes);
  const int trials = 12;
  int killed = 0, saw_new = 0;
  for (int i = 0; i < trials; ++i) {
    SCOPED_TRACE("trial " + std::to_string(i));
    const std::string out_dir = dir_ + "/embed_kill" + std::to_string(i);
    fs::create_directories(out_dir);
    const std::string user = out_dir + "/user.safetensors";
    fs::copy_file(dir_ + "/old_user.safetensors", user);
    // Spread over the whole run, the last ones past its usual end (around the write).
    const auto delay = embed_time_ * (i + 1) / (trials - 2);
    killed += kill_after(embed_args(dir_ + "/new_history.json", user), out_dir + ".log", delay);
    const std::string now = testing::slurp(user);
    EXPECT_TRUE(now == old_bytes || now == new_bytes) << "a torn file: " << now.size() << " bytes";
    saw_new += now == new_bytes;
    // Only a temporary file of the instant between naming and renaming may be left; a retry
    // writes the new state and leaves exactly the one file.
    for (const auto& name : listing(out_dir)) {
      EXPECT_TRUE(name == "user.safetensors" || name.rfind("user.safetensors.tmp.", 0) == 0)
          << name;
    }
    ASSERT_EQ(testing::wait_child(testing::spawn_pplug(embed_args(dir_ + "/new_history.json", user),
                                                       out_dir + "-retry.log")),
              0)
        << testing::slurp(out_dir + "-retry.log");
    EXPECT_EQ(testing::slurp(user), new_bytes);
  }
  RecordProperty("kills", killed);
  RecordProperty("new_after_kill", saw_new);
  EXPECT_GE(killed, trials / 2);  // most trials must hit the run, or this tests nothing
}

TEST_F(SaveFaultsTest, PluginSaveKilledAtAnyMomentLeavesTheOldOrTheNewFolder) {
  const std::string old_fp = fingerprint_of(dir_ + "/old_plugin");
  const std::string new_fp = fingerprint_of(dir_ + "/new_plugin");
  ASSERT_NE(old_fp, new_fp);
  const std::string old_weights = testing::slurp(dir_ + "/old_plugin/plugin.safetensors");
  const std::string new_weights = testing::slurp(dir_ + "/new_plugin/plugin.safetensors");
  int killed = 0, during_write = 0;
  for (int i = 0; i < 10; ++i) {
    SCOPED_TRACE("trial " + std::to_string(i));
    const std::string parent = dir_ + "/init_kill" + std::to_string(i);
    const std::string plugin = parent + "/plugin";
    fs::create_directories(parent);
    copy_tree(dir_ + "/old_plugin", plugin);
    const auto args = init_args(plugin);
    if (i < 3) {
      // While the new folder is being written beside the old one.
      const pid_t child = testing::spawn_pplug(args, parent + ".log");
      const auto deadline = Clock::now() + std::chrono::seconds(60);
      bool writing = false;
      while (!writing && Clock::now() < deadline) {
        for (const auto& name : listing(parent)) writing |= name.rfind("plugin.tmp-", 0) == 0;
        if (!writing) std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
      ::kill(child, SIGKILL);
      const bool hit = testing::wait_child(child) == -SIGKILL;
      killed += hit;
      during_write += hit && writing;
    } else {
      killed += kill_after(args, parent + ".log", embed_time_ * (i - 2) / 6);
    }
    const std::string fp = fingerprint_of(plugin);
    const std::string weights = testing::slurp(plugin + "/plugin.safetensors");
    EXPECT_TRUE((fp == old_fp && weights == old_weights) ||
                (fp == new_fp && weights == new_weights))
        << "a mixed or torn plug-in: " << fp;
    // The retry replaces the folder and clears what the killed save left beside it.
    ASSERT_EQ(testing::wait_child(testing::spawn_pplug(args, parent + "-retry.log")), 0)
        << testing::slurp(parent + "-retry.log");
    EXPECT_EQ(fingerprint_of(plugin), new_fp);
    EXPECT_EQ(listing(parent), std::set<std::string>{"plugin"});
    EXPECT_EQ(listing(plugin), (std::set<std::string>{"manifest.json", "plugin.safetensors"}));
  }
  RecordProperty("kills", killed);
  RecordProperty("kills_during_write", during_write);
  EXPECT_GE(killed, 5);
  EXPECT_GE(during_write, 1);
}

TEST_F(SaveFaultsTest, FullDiskFailsClearlyAndKeepsThePreviousState) {
  testing::ChildLimits full;
  full.file_size_limit = 512;  // smaller than a user embedding or a plug-in's weights
  const std::string out_dir = dir_ + "/full";
  fs::create_directories(out_dir);
  const std::string user = out_dir + "/user.safetensors";
  fs::copy_file(dir_ + "/old_user.safetensors", user);
  const auto embed = testing::run_pplug_limited(embed_args(dir_ + "/new_history.json", user),
                                                dir_ + "/full_embed.log", full);
  EXPECT_EQ(embed.rc, 1) << embed.err;
  EXPECT_NE(embed.err.find("pplug: error: " + user + ": write failed: File too large"),
            std::string::npos)
      << embed.err;
  EXPECT_EQ(testing::slurp(user), testing::slurp(dir_ + "/old_user.safetensors"));

  const std::string plugin = out_dir + "/plugin";
  copy_tree(dir_ + "/old_plugin", plugin);
  const auto init = testing::run_pplug_limited(init_args(plugin), dir_ + "/full_init.log", full);
  EXPECT_EQ(init.rc, 1) << init.err;
  EXPECT_NE(init.err.find("pplug: error: "), std::string::npos) << init.err;
  EXPECT_NE(init.err.find("File too large"), std::string::npos) << init.err;
  EXPECT_EQ(fingerprint_of(plugin), fingerprint_of(dir_ + "/old_plugin"));
  EXPECT_EQ(listing(out_dir), (std::set<std::string>{"plugin", "user.safetensors"}));
  EXPECT_EQ(listing(plugin), (std::set<std::string>{"manifest.json", "plugin.safetensors"}));
}

TEST_F(SaveFaultsTest, ReadOnlyFolderFailsClearlyAndKeepsThePreviousState) {
  testing::ChildLimits strict;
  strict.obey_file_permissions = true;
  const std::string out_dir = dir_ + "/readonly";
  fs::create_directories(out_dir);
  const std::string user = out_dir + "/user.safetensors";
  fs::copy_file(dir_ + "/old_user.safetensors", user);
  copy_tree(dir_ + "/old_plugin", out_dir + "/plugin");
  ::chmod(out_dir.c_str(), 0555);
  // Is the folder read-only to such a child here? (It is not where capabilities cannot be
  // dropped.)
  const int probe = testing::wait_child(testing::spawn_process(
      "/bin/sh", {"-c", "touch '" + out_dir + "/probe'"}, dir_ + "/probe.log", strict));
  if (probe != 1) {
    ::chmod(out_dir.c_str(), 0755);
    GTEST_SKIP() << "cannot make a folder read-only for a child here (probe exit " << probe << ")";
  }
  const auto embed = testing::run_pplug_limited(embed_args(dir_ + "/new_history.json", user),
                                                dir_ + "/ro_embed.log", strict);
  const auto init =
      testing::run_pplug_limited(init_args(out_dir + "/plugin"), dir_ + "/ro_init.log", strict);
  ::chmod(out_dir.c_str(), 0755);
  EXPECT_EQ(embed.rc, 1) << embed.err;
  EXPECT_NE(embed.err.find("pplug: error: " + user + ": cannot create: Permission denied"),
            std::string::npos)
      << embed.err;
  EXPECT_EQ(testing::slurp(user), testing::slurp(dir_ + "/old_user.safetensors"));
  EXPECT_EQ(init.rc, 1) << init.err;
  EXPECT_NE(init.err.find("pplug: error: "), std::string::npos) << init.err;
  EXPECT_NE(init.err.find("Permission denied"), std::string::npos) << init.err;
  EXPECT_EQ(fingerprint_of(out_dir + "/plugin"), fingerprint_of(dir_ + "/old_plugin"));
  EXPECT_EQ(listing(out_dir), (std::set<std::string>{"plugin", "user.safetensors"}));
}

}  // namespace
}  // namespace pplug
