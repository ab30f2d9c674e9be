// Naming the ranks that did not answer when a collective fails.
//
// Gloo's own error says only that a socket timed out or was closed. Every rank whose collective
// fails reports it in the store; the failing rank then sorts its peers into those that failed
// too (alive, and in the same collective), those whose process is gone (told at once on this
// machine), and those that stayed silent for the grace period (dead elsewhere, or hung).
#pragma once

#include <torch/csrc/distributed/c10d/Store.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace pplug::dist {

struct FailureContext {
  int rank = 0;
  int world_size = 1;
  int64_t sequence = 0;                 // number of the failed collective (the same on every rank)
  std::vector<std::string> identities;  // each rank's this_process_identity()
  bool store_served_by_rank0 = true;    // TCPStore: losing the store means losing rank 0
  std::chrono::milliseconds grace{0};   // how long silent peers are waited for
};

// Reports this rank's failure and returns what is known of the others, as a phrase such as
// "rank 1 has exited (pid 4242)" or "ranks 2, 3 did not answer within 2000 ms".
std::string diagnose_failure(c10d::Store& store, const FailureContext& context);

}  // namespace pplug::dist
