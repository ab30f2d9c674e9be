// pplug's logging switch. The implementation uses spdlog, kept out of the public headers.
// The initial level comes from the environment variable PPLUG_LOG_LEVEL
// (trace, debug, info, warn, error, off; default info).
#pragma once

#include <string>

namespace pplug {

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError, kOff };

// Sets the level of every pplug log message from now on.
void set_log_level(LogLevel level);
LogLevel log_level();
// Parses a level name as accepted by PPLUG_LOG_LEVEL; throws InvalidArgument otherwise.
LogLevel parse_log_level(const std::string& name);

}  // namespace pplug
