// Private logging helpers: pplug's own spdlog logger (writes to stderr).
#pragma once

#include <spdlog/spdlog.h>

namespace pplug::detail {

spdlog::logger& logger();

}  // namespace pplug::detail

#define PPLUG_LOG_DEBUG(...) ::pplug::detail::logger().debug(__VA_ARGS__)
#define PPLUG_LOG_INFO(...) ::pplug::detail::logger().info(__VA_ARGS__)
#define PPLUG_LOG_WARN(...) ::pplug::detail::logger().warn(__VA_ARGS__)
