#include "dist/failure_report.h"

#include <thread>

#include "dist/exception_text.h"
#include "dist/process_identity.h"
#include "dist/rank_list.h"

namespace pplug::dist {
namespace {

using Clock = std::chrono::steady_clock;

std::string failed_key(int64_t sequence, int rank) {
  return "pplug/failed/" + std::to_string(sequence) + "/" + std::to_string(rank);
}

std::string exited_phrase(const std::vector<int>& ranks, const FailureContext& context) {
  std::string pids;
  for (int r : ranks) pids += (pids.empty() ? "pid " : ", ") + identity_pid(context.identities[r]);
  return rank_list(ranks) + (ranks.size() == 1 ? " has" : " have") + " exited (" + pids + ")";
}

}  // namespace

std::string diagnose_failure(c10d::Store& store, const FailureContext& context) {
  std::vector<int> pending, failed_too, exited;
  for (int r = 0; r < context.world_size; ++r) {
    if (r != context.rank) pending.push_back(r);
  }
  std::string store_error;
  try {
    store.set(failed_key(context.sequence, context.rank), {1});
    const auto deadline = Clock::now() + context.grace;
    while (true) {
      std::vector<int> still;
      for (int r : pending) {
        if (store.check({failed_key(context.sequence, r)})) {
          failed_too.push_back(r);
        } else if (process_has_exited(context.identities[r])) {
          exited.push_back(r);
        } else {
          still.push_back(r);
        }
      }
      pending.swap(still);
      if (pending.empty() || Clock::now() >= deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  } catch (const std::exception& e) {
    store_error = exception_text(e);
  }
  // Without the store, a local rank 0 can still be checked directly.
  std::vector<int> unknown;
  for (int r : pending) (process_has_exited(context.identities[r]) ? exited : unknown).push_back(r);

  std::vector<std::string> parts;
  if (!exited.empty()) parts.push_back(exited_phrase(exited, context));
  if (!store_error.empty()) {
    // Rank 0 serves a TCPStore from its own process: a lost store is a lost rank 0.
    if (context.store_served_by_rank0 && !unknown.empty() && unknown.front() == 0) {
      parts.push_back("rank 0 (which serves the store) is gone or hung: " + store_error);
      unknown.erase(unknown.begin());
    } else {
      parts.push_back("the store cannot be reached: " + store_error);
    }
    if (!unknown.empty()) parts.push_back(rank_list(unknown) + " could not be asked");
  } else if (!unknown.empty()) {
    parts.push_back(rank_list(unknown) + " did not answer within " +
                    std::to_string(context.grace.count()) + " ms");
  }
  if (parts.empty()) {
    parts.push_back(failed_too.size() == 1
                        ? "rank " + std::to_string(failed_too.front()) + " failed too"
                        : "every other rank failed too");
  }
  std::string text;
  for (const auto& part : parts) text += (text.empty() ? "" : "; ") + part;
  return text;
}

}  // namespace pplug::dist
