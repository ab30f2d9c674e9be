// Waiting for a TCP listener to appear (rank 0's store, seen from the other ranks).
#pragma once

#include <chrono>
#include <string>

namespace pplug::dist {

// Connects to host:port (and closes at once) every few milliseconds until it succeeds (true) or
// `deadline` passes (false). Throws pplug::Error when `host` does not resolve.
//
// Why not let c10d's TCPStore client retry by itself: it retries once a second, so a worker
// that starts a moment before rank 0 (the usual case under a launcher) lost a whole second,
// and its give-up is logged through glog on top of the exception.
bool wait_for_listener(const std::string& host, int port,
                       std::chrono::steady_clock::time_point deadline);

}  // namespace pplug::dist
