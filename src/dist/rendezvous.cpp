#include "dist/rendezvous.h"

#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <thread>

#include "dist/exception_text.h"
#include "dist/process_identity.h"
#include "dist/rank_list.h"
#include "dist/tcp_probe.h"
#include "pplug/error.h"

namespace pplug::dist {
namespace {

std::string joined_key(int rank) { return "pplug/joined/" + std::to_string(rank); }

std::string store_name(const DistributedConfig& config) {
  return config.file_store.empty()
             ? "the store at " + config.master_addr + ":" + std::to_string(config.master_port)
             : "the FileStore " + config.file_store;
}

}  // namespace

c10::intrusive_ptr<c10d::Store> open_store(const DistributedConfig& config,
                                           Clock::time_point deadline) {
  const std::string rank = "rank " + std::to_string(config.rank);
  if (!config.file_store.empty()) {
    try {
      auto store = c10::make_intrusive<c10d::FileStore>(config.file_store, config.world_size);
      store->setTimeout(config.timeout);
      return store;
    } catch (const std::exception& e) {
      throw Error("start-up: " + rank + " cannot open " + store_name(config) + ": " +
                  exception_text(e));
    }
  }
  c10d::TCPStoreOptions options;
  options.port = static_cast<std::uint16_t>(config.master_port);
  options.isServer = config.rank == 0;
  options.numWorkers = config.world_size;
  // join_group waits for the workers itself, so that it can say which ones never came.
  options.waitWorkers = false;
  options.timeout = config.timeout;
  if (config.rank != 0 && !wait_for_listener(config.master_addr, config.master_port, deadline)) {
    throw Error("start-up: rank 0, which serves " + store_name(config) + ", never joined within " +
                std::to_string(config.timeout.count()) + " ms (seen from " + rank + ")");
  }
  try {
    return c10::make_intrusive<c10d::TCPStore>(config.master_addr, options);
  } catch (const std::exception& e) {
    throw Error("start-up: " + rank + (config.rank == 0 ? " cannot serve " : " cannot reach ") +
                store_name(config) + ": " + exception_text(e));
  }
}

std::vector<std::string> join_group(c10d::Store& store, const DistributedConfig& config,
                                    Clock::time_point deadline) {
  std::vector<std::string> keys;
  keys.reserve(static_cast<size_t>(config.world_size));
  for (int r = 0; r < config.world_size; ++r) keys.push_back(joined_key(r));
  const std::string identity = this_process_identity();
  try {
    store.set(keys[config.rank], std::vector<uint8_t>(identity.begin(), identity.end()));
    // Polled rather than Store::wait, whose timeout says only that some key is missing.
    while (!store.check(keys) && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::vector<int> missing;
    for (int r = 0; r < config.world_size; ++r) {
      if (!store.check({keys[r]})) missing.push_back(r);
    }
    if (!missing.empty()) {
      throw Error("start-up: " + rank_list(missing) + " of " + std::to_string(config.world_size) +
                  " never joined " + store_name(config) + " within " +
                  std::to_string(config.timeout.count()) + " ms (seen from rank " +
                  std::to_string(config.rank) + ")");
    }
    std::vector<std::string> identities;
    for (const auto& key : keys) {
      const auto bytes = store.get(key);
      identities.emplace_back(bytes.begin(), bytes.end());
    }
    return identities;
  } catch (const pplug::Error&) {
    throw;
  } catch (const std::exception& e) {
    // The store itself failed: with a TCPStore that means rank 0 went away during start-up.
    throw Error("start-up: rank " + std::to_string(config.rank) + " lost " + store_name(config) +
                (config.file_store.empty() ? " (served by rank 0)" : "") + ": " +
                exception_text(e));
  }
}

}  // namespace pplug::dist
