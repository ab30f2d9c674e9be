// Start-up of a group: the store every rank meets at, and the check that every rank came.
#pragma once

#include <torch/csrc/distributed/c10d/Store.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "pplug/distributed.h"

namespace pplug::dist {

using Clock = std::chrono::steady_clock;

// Rank 0 serves a TCPStore on master_port and the other ranks connect to master_addr (or every
// rank opens config.file_store). Throws pplug::Error when the store cannot be served, or cannot
// be reached by `deadline` (then naming rank 0 as the rank that never joined).
c10::intrusive_ptr<c10d::Store> open_store(const DistributedConfig& config,
                                           Clock::time_point deadline);

// Announces this rank (with this_process_identity()) and waits until every rank has. Returns
// the identities indexed by rank; throws pplug::Error naming the ranks that had not joined by
// `deadline`.
std::vector<std::string> join_group(c10d::Store& store, const DistributedConfig& config,
                                    Clock::time_point deadline);

}  // namespace pplug::dist
