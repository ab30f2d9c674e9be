#include "pplug/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>

#include "pplug/error.h"
#include "util/log.h"

namespace pplug {
namespace {

spdlog::level::level_enum to_spdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return spdlog::level::trace;
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
    case LogLevel::kOff:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

std::shared_ptr<spdlog::logger> make_logger() {
  // A private logger (not registered globally) so an application's own spdlog set-up is untouched.
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto log = std::make_shared<spdlog::logger>("pplug", sink);
  log->set_pattern("[%H:%M:%S.%e] [pplug] [%^%l%$] %v");
  LogLevel level = LogLevel::kInfo;
  if (const char* env = std::getenv("PPLUG_LOG_LEVEL"); env != nullptr && *env != '\0') {
    try {
      level = parse_log_level(env);
    } catch (const InvalidArgument&) {
      // A bad environment value must not make every program fail; keep the default.
    }
  }
  log->set_level(to_spdlog(level));
  return log;
}

}  // namespace

namespace detail {
spdlog::logger& logger() {
  static const std::shared_ptr<spdlog::logger> instance = make_logger();
  return *instance;
}
}  // namespace detail

void set_log_level(LogLevel level) { detail::logger().set_level(to_spdlog(level)); }

LogLevel log_level() {
  switch (detail::logger().level()) {
    case spdlog::level::trace:
      return LogLevel::kTrace;
    case spdlog::level::debug:
      return LogLevel::kDebug;
    case spdlog::level::info:
      return LogLevel::kInfo;
    case spdlog::level::warn:
      return LogLevel::kWarn;
    case spdlog::level::err:
    case spdlog::level::critical:
      return LogLevel::kError;
    default:
      return LogLevel::kOff;
  }
}

LogLevel parse_log_level(const std::string& name) {
  if (name == "trace") return LogLevel::kTrace;
  if (name == "debug") return LogLevel::kDebug;
  if (name == "info") return LogLevel::kInfo;
  if (name == "warn" || name == "warning") return LogLevel::kWarn;
  if (name == "error") return LogLevel::kError;
  if (name == "off") return LogLevel::kOff;
  throw InvalidArgument("unknown log level '" + name +
                        "' (expected trace, debug, info, warn, error or off)");
}

}  // namespace pplug
