// The user store of `pplug serve` at scale: write rate, bytes per user and per item, and the
// rate users load from a cold store (no LRU, their files dropped from the page cache), for one
// storage form (docs/serving.md, "Size"), and what recomputing a user's projections costs a
// query when they are not stored. Synthetic users: random item vectors and projections of the
// given widths, each item a short text.
//
//   store_bench --dir DIR --users 100000 --items 8 --encoder-dim 288 --llm-dim 288
//               [--persona-tokens 1] [--vectors f32|bf16|int8] [--no-projections] [--reads N]
//
// DIR must not exist (it is created, filled, and left for inspection). Prints one JSON line.
#include <fcntl.h>
#include <unistd.h>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>

#include "pplug/error.h"
#include "pplug/safetensors.h"
#include "serve/user_store.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

struct Args {
  std::string dir;
  int64_t users = 1000, items = 8, encoder_dim = 288, llm_dim = 288, persona_tokens = 1;
  int64_t reads = 0;  // 0 = every user
  pplug::EmbeddingStorage storage;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw pplug::InvalidArgument(flag + " needs a value");
      return argv[++i];
    };
    if (flag == "--dir")
      a.dir = value();
    else if (flag == "--users")
      a.users = std::stoll(value());
    else if (flag == "--items")
      a.items = std::stoll(value());
    else if (flag == "--encoder-dim")
      a.encoder_dim = std::stoll(value());
    else if (flag == "--llm-dim")
      a.llm_dim = std::stoll(value());
    else if (flag == "--persona-tokens")
      a.persona_tokens = std::stoll(value());
    else if (flag == "--vectors")
      a.storage.vectors = value();
    else if (flag == "--no-projections")
      a.storage.projections = false;
    else if (flag == "--reads")
      a.reads = std::stoll(value());
    else
      throw pplug::InvalidArgument("unknown flag " + flag);
  }
  if (a.dir.empty()) throw pplug::InvalidArgument("--dir is required");
  if (std::filesystem::exists(a.dir)) throw pplug::InvalidArgument(a.dir + " exists");
  if (a.users < 1 || a.items < 1) throw pplug::InvalidArgument("--users and --items must be >= 1");
  return a;
}

// A user of `items` random items, as embed_user would give it (f32 vectors and projections).
std::shared_ptr<const pplug::serve::UserRecord> synthetic_user(const Args& a, int64_t u) {
  auto record = std::make_shared<pplug::serve::UserRecord>();
  nlohmann::json ids = nlohmann::json::array();
  for (int64_t i = 0; i < a.items; ++i) {
    pplug::HistoryItem item;
    item.id = "u" + std::to_string(u) + "-" + std::to_string(i);
    item.set("text", "a short history item number " + std::to_string(i) + " of user " +
                         std::to_string(u) + ", about sixty characters");
    ids.push_back(item.id);
    record->items.push_back(item);
  }
  const auto vectors = at::randn({a.items, a.encoder_dim}) / std::sqrt(double(a.encoder_dim));
  const auto projections = at::randn({a.items, a.persona_tokens * a.llm_dim});
  record->embedding = pplug::UserEmbedding::from_bytes(
      pplug::serialize_safetensors({{"item_vectors", vectors}, {"item_projections", projections}},
                                   {{"format", "pplug-user-embedding"},
                                    {"format_version", "1"},
                                    {"item_ids", ids.dump()},
                                    {"encoder_fingerprint", "bench-encoder"},
                                    {"plugin_fingerprint", "bench-plugin"}}));
  return record;
}

// Drops a written (clean, fsync'ed) file's pages from the page cache: the next read is cold.
void drop_cached(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args a = parse(argc, argv);
    at::manual_seed(1);
    const pplug::serve::StoreIdentity identity{"bench-plugin", "bench-encoder", "bench-llm"};
    pplug::serve::UserStore store(a.dir, identity, /*cache_users=*/0, a.storage);
    double generate_s = 0, write_s = 0;
    uint64_t bytes = 0;
    for (int64_t u = 0; u < a.users; ++u) {
      auto start = Clock::now();
      const auto user = synthetic_user(a, u);
      generate_s += seconds_since(start);
      const std::string id = "user" + std::to_string(u);
      start = Clock::now();
      store.put(id, user);
      write_s += seconds_since(start);
      bytes += std::filesystem::file_size(store.user_path(id));
    }
    const int64_t reads = a.reads > 0 ? std::min(a.reads, a.users) : a.users;
    std::mt19937_64 rng(7);
    std::vector<std::string> order;
    for (int64_t r = 0; r < reads; ++r) order.push_back("user" + std::to_string(rng() % a.users));
    for (const auto& id : order) drop_cached(store.user_path(id));
    pplug::serve::UserStore cold(a.dir, identity, /*cache_users=*/0, a.storage);
    const auto start = Clock::now();
    int64_t items = 0;
    for (const auto& id : order) items += cold.get(id)->embedding.num_items();
    const double read_s = seconds_since(start);
    // What a query pays when the projections are not stored: the projector (a two-layer MLP
    // d_e -> d -> n_p d) over the user's items. Median of 9, after one warm-up.
    const int64_t width = a.persona_tokens * a.llm_dim;
    const auto x = at::randn({a.items, a.encoder_dim});
    const auto w1 = at::randn({a.llm_dim, a.encoder_dim}), b1 = at::randn({a.llm_dim});
    const auto w2 = at::randn({width, a.llm_dim}), b2 = at::randn({width});
    std::vector<double> runs;
    for (int r = 0; r < 10; ++r) {
      const auto t = Clock::now();
      const auto y = at::linear(at::gelu(at::linear(x, w1, b1)), w2, b2);
      if (r > 0) runs.push_back(seconds_since(t));
    }
    std::sort(runs.begin(), runs.end());
    const double recompute_ms = runs[runs.size() / 2] * 1e3;
    nlohmann::json out = {{"users", a.users},
                          {"items_per_user", a.items},
                          {"encoder_dim", a.encoder_dim},
                          {"projection_width", a.persona_tokens * a.llm_dim},
                          {"vectors", a.storage.vectors},
                          {"projections_stored", a.storage.projections},
                          {"store_bytes", bytes},
                          {"bytes_per_user", double(bytes) / a.users},
                          {"bytes_per_item", double(bytes) / (a.users * a.items)},
                          {"writes_per_s", a.users / write_s},
                          {"cold_reads", reads},
                          {"cold_loads_per_s", reads / read_s},
                          {"items_loaded", items},
                          {"projection_recompute_ms", recompute_ms},
                          {"synthesis_s", generate_s}};
    std::cout << out.dump() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "store_bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
