// The user store: ids, records, manifest refusal, the LRU, appends that encode only new items,
// and crash safety under kill -9.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "pplug/error.h"
#include "serve/serve_fixture.h"
#include "serve/user_id.h"
#include "serve/user_service.h"
#include "serve/user_store.h"
#include "util/file_io.h"

namespace pplug::serve {
namespace {

namespace fs = std::filesystem;
using serve::testing::make_tiny_plug;
using serve::testing::text_history;

TEST(UserIdTest, OnlySafeNamesPass) {
  for (const char* ok : {"alice", "u-1", "A.b_c", "0", "x.y.z"}) {
    EXPECT_NO_THROW(validate_user_id(ok)) << ok;
  }
  const std::vector<std::string> bad_ids = {"",
                                            "../x",
                                            "..",
                                            ".",
                                            ".hidden",
                                            "a..b",
                                            "a/b",
                                            "a\\b",
                                            "a b",
                                            "caf\xc3\xa9",
                                            std::string(129, 'a'),
                                            std::string("a\0b", 3)};
  for (const std::string& bad : bad_ids) {
    try {
      validate_user_id(bad, "user");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find("user: must be"), std::string::npos) << e.what();
    }
  }
  EXPECT_NO_THROW(validate_user_id(std::string(128, 'a')));
}

TEST(LruCacheTest, EvictsTheLeastRecentlyUsed) {
  LruCache<int> cache(2);
  cache.put("a", 1);
  cache.put("b", 2);
  ASSERT_NE(cache.find("a"), nullptr);  // a is now the most recent
  cache.put("c", 3);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.find("b"), nullptr);
  EXPECT_EQ(*cache.find("a"), 1);
  EXPECT_EQ(*cache.find("c"), 3);
  LruCache<int> none(0);
  none.put("a", 1);
  EXPECT_EQ(none.find("a"), nullptr);
}

class UserStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tiny_ = make_tiny_plug();
    PPLUG_SERVE_REQUIRE_PLUG(tiny_);
    dir_ = pplug::testing::temp_dir("user_store") + "/store";
  }
  std::shared_ptr<UserStore> open(size_t cache_users = 16) {
    return std::make_shared<UserStore>(dir_, store_identity(*tiny_.plug), cache_users);
  }
  std::shared_ptr<UserRecord> record(int n, int salt) const {
    auto r = std::make_shared<UserRecord>();
    r->items = text_history(n, salt);
    r->embedding = tiny_.plug->embed_user(r->items);
    return r;
  }
  serve::testing::TinyPlug tiny_;
  std::string dir_;
};

void expect_same_embedding(const UserEmbedding& a, const UserEmbedding& b) {
  ASSERT_EQ(a.item_ids(), b.item_ids());
  ASSERT_EQ(a.num_items(), b.num_items());
  if (a.num_items() == 0) return;
  EXPECT_TRUE(at::equal(a.item_vectors(), b.item_vectors()));
  EXPECT_TRUE(at::equal(a.item_projections(), b.item_projections()));
}

TEST_F(UserStoreTest, RecordsPersistInFanOutFolders) {
  auto store = open();
  EXPECT_EQ(store->get("alice"), nullptr);
  const auto alice = record(3, 1);
  store->put("alice", alice);
  const std::string path = store->user_path("alice");
  // DIR/users/xx/yy/alice.user
  EXPECT_EQ(fs::path(path).filename(), "alice.user");
  EXPECT_EQ(fs::path(path).parent_path().parent_path().parent_path(), fs::path(dir_) / "users");
  EXPECT_TRUE(fs::exists(path));
  EXPECT_THROW(store->user_path("../x"), InvalidArgument);

  auto reopened = open();  // a restart: nothing cached, read from disk
  const auto back = reopened->get("alice");
  ASSERT_NE(back, nullptr);
  EXPECT_EQ(back->items.size(), 3u);
  EXPECT_EQ(back->items[2].get("text"), alice->items[2].get("text"));
  expect_same_embedding(back->embedding, alice->embedding);
  EXPECT_TRUE(reopened->remove("alice"));
  EXPECT_FALSE(reopened->remove("alice"));
  EXPECT_EQ(reopened->get("alice"), nullptr);
  EXPECT_EQ(open()->get("alice"), nullptr);
}

TEST_F(UserStoreTest, ACompactStoreServesAfterARestartWhatItServedBefore) {
  EmbeddingStorage storage;
  storage.vectors = "int8";
  storage.projections = false;
  auto store = std::make_shared<UserStore>(dir_, store_identity(*tiny_.plug), 16, storage);
  const auto alice = record(4, 2);
  store->put("alice", alice);
  const auto cached = store->get("alice");  // from memory
  ASSERT_NE(cached, nullptr);
  EXPECT_FALSE(cached->embedding.item_projections().defined());
  auto restarted = std::make_shared<UserStore>(dir_, store_identity(*tiny_.plug), 16, storage);
  const auto read = restarted->get("alice");  // from disk
  ASSERT_NE(read, nullptr);
  EXPECT_TRUE(at::equal(read->embedding.item_vectors(), cached->embedding.item_vectors()));
  const std::string input = "a story about a boat";
  EXPECT_TRUE(at::equal(tiny_.plug->soft_tokens(read->embedding, input),
                        tiny_.plug->soft_tokens(cached->embedding, input)));
  // Smaller on disk than the full form of the same user.
  const auto full_size = encode_user_record("alice", *alice).size();
  EXPECT_LT(fs::file_size(store->user_path("alice")), full_size);
  // A full store reads the compact record too (records describe themselves).
  EXPECT_NE(open()->get("alice"), nullptr);
}

TEST_F(UserStoreTest, AStoreOfAnotherPluginIsRefusedNamingBoth) {
  open()->put("bob", record(1, 0));
  const auto other = make_tiny_plug(/*seed=*/7);  // other projector weights
  ASSERT_NE(other.plug->fingerprint(), tiny_.plug->fingerprint());
  try {
    UserStore(dir_, store_identity(*other.plug));
    ADD_FAILURE() << "opened a store of another plug-in";
  } catch (const MismatchError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(tiny_.plug->fingerprint()), std::string::npos) << message;
    EXPECT_NE(message.find(other.plug->fingerprint()), std::string::npos) << message;
  }
  // A folder of something else is not taken over.
  const std::string foreign = pplug::testing::temp_dir("user_store_foreign");
  std::ofstream(foreign + "/notes.txt") << "mine";
  EXPECT_THROW(UserStore(foreign, store_identity(*tiny_.plug)), InvalidArgument);
  std::ofstream(dir_ + "/manifest.json") << "{not json";
  EXPECT_THROW(open(), FormatError);
}

TEST_F(UserStoreTest, TheCacheIsBoundedAndADamagedFileIsRefused) {
  auto store = open(/*cache_users=*/2);
  for (int u = 0; u < 5; ++u) store->put("u" + std::to_string(u), record(1, u));
  EXPECT_EQ(store->cached_users(), 2u);
  for (int u = 0; u < 5; ++u) {
    const auto r = store->get("u" + std::to_string(u));
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->items[0].get("text"), text_history(1, u)[0].get("text"));
  }
  EXPECT_EQ(store->cached_users(), 2u);
  // One flipped byte in the middle of a record: the checksum refuses it.
  const std::string path = store->user_path("u0");
  std::string bytes = detail::read_file(path);
  bytes[bytes.size() / 2] ^= 0x40;
  detail::write_file_atomic(path, bytes);
  EXPECT_THROW(open(0)->get("u0"), FormatError);
  // A record file copied under another user's name is refused too.
  detail::write_file_atomic(store->user_path("u1"), detail::read_file(store->user_path("u2")));
  EXPECT_THROW(open(0)->get("u1"), FormatError);
}

TEST_F(UserStoreTest, AppendEncodesOnlyNewItemsAndEqualsAReplace) {
  auto store = open();
  UserService users(tiny_.plug, store);
  const auto all = text_history(7, 2);
  const std::vector<HistoryItem> head(all.begin(), all.begin() + 4),
      tail(all.begin() + 4, all.end());
  EXPECT_EQ(users.replace("carol", head).encoded, 4);
  const HistoryUpdate appended = users.append("carol", tail);
  EXPECT_EQ(appended.encoded, 3);
  EXPECT_EQ(appended.items, 7);
  const auto carol = open(0)->get("carol");
  const auto whole = tiny_.plug->embed_user(all);
  ASSERT_EQ(carol->embedding.item_ids(), whole.item_ids());
  EXPECT_TRUE(at::allclose(carol->embedding.item_vectors(), whole.item_vectors(), 1e-5, 1e-6));
  EXPECT_TRUE(
      at::allclose(carol->embedding.item_projections(), whole.item_projections(), 1e-4, 1e-5));
  // An item id already in the history, or an item without the template's field, is refused
  // and changes nothing.
  EXPECT_THROW(users.append("carol", {text_item("again", "h1")}), InvalidArgument);
  HistoryItem no_text;
  no_text.id = "x";
  no_text.set("title", "no text here");
  try {
    users.append("carol", {no_text});
    ADD_FAILURE() << "accepted an item without text";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("text"), std::string::npos) << e.what();
  }
  EXPECT_EQ(open(0)->get("carol")->items.size(), 7u);
  // Appending to an unknown user creates it.
  EXPECT_EQ(users.append("dave", tail).items, 3);
}

TEST_F(UserStoreTest, AppendKeepsTheMostRecentMaxHistoryItems) {
  PluginConfig config;
  config.max_history = 4;
  auto plug = std::make_shared<PersonaPlug>(
      tiny_.llm, make_llm_encoder(tiny_.llm.model, tiny_.llm.tokenizer), config, 0);
  dir_ += "-small";
  auto store = std::make_shared<UserStore>(dir_, store_identity(*plug));
  UserService users(plug, store);
  const auto all = text_history(6, 3);
  users.replace("erin", {all.begin(), all.begin() + 3});
  EXPECT_EQ(users.append("erin", {all.begin() + 3, all.end()}).items, 4);
  const auto erin = store->get("erin");
  EXPECT_EQ(erin->embedding.item_ids(), (std::vector<std::string>{"h2", "h3", "h4", "h5"}));
  EXPECT_EQ(erin->items.front().id, "h2");
}

// A writer process rewrites every user in a loop (old and new versions alternately) and is
// killed with SIGKILL at random moments; afterwards each user's file is byte for byte one of
// the two versions and loads. The child only writes prepared bytes (no libtorch after fork).
TEST_F(UserStoreTest, KillDashNineLeavesEveryUserAtTheOldOrTheNewVersion) {
  constexpr int kUsers = 6;
  constexpr int kKills = 12;
  auto store = open(0);
  std::vector<std::string> old_bytes, new_bytes;
  for (int u = 0; u < kUsers; ++u) {
    const std::string id = "k" + std::to_string(u);
    old_bytes.push_back(encode_user_record(id, *record(2, u)));
    new_bytes.push_back(encode_user_record(id, *record(5, u + 1)));
    store->write_record(id, old_bytes.back());
  }
  std::mt19937 rng(13);
  for (int kill = 0; kill < kKills; ++kill) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      for (uint64_t round = 0;; ++round) {
        for (int u = 0; u < kUsers; ++u) {
          store->write_record("k" + std::to_string(u),
                              (round + u) % 2 ? new_bytes[u] : old_bytes[u]);
        }
      }
    }
    // A random moment of the writer's life (the kill point, not a timing assertion).
    ::usleep(std::uniform_int_distribution<int>(0, 20000)(rng));
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status));
    auto fresh = open(0);
    for (int u = 0; u < kUsers; ++u) {
      const std::string id = "k" + std::to_string(u);
      const std::string bytes = detail::read_file(fresh->user_path(id));
      ASSERT_TRUE(bytes == old_bytes[u] || bytes == new_bytes[u])
          << id << " is torn after kill " << kill << " (" << bytes.size() << " bytes)";
      const auto r = fresh->get(id);
      ASSERT_NE(r, nullptr);
      EXPECT_TRUE(r->items.size() == 2 || r->items.size() == 5);
    }
  }
}

}  // namespace
}  // namespace pplug::serve
