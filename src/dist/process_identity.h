// Who a rank's process is, in a form a peer on the same machine can check for liveness. After a
// collective fails, a peer whose process is gone can be named at once instead of after a wait.
#pragma once

#include <optional>
#include <string>

namespace pplug::dist {

// "host pid-namespace pid start-time" of the calling process (one line, no separators inside).
std::string this_process_identity();

// The process id recorded in an identity ("?" when it has none).
std::string identity_pid(const std::string& identity);

// True only when `identity` names a process of this machine and pid namespace that has provably
// ended (no such process, a zombie, or its pid reused by a later process). False when it is
// alive, or lives elsewhere and cannot be checked from here.
bool process_has_exited(const std::string& identity);

}  // namespace pplug::dist
