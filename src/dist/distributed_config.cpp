// DistributedConfig from torchrun's environment variables, and its validation.
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <optional>
#include <string>

#include "pplug/distributed.h"
#include "pplug/error.h"

namespace pplug {
namespace {

std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

// A whole-string decimal integer in [lo, hi]; anything else (spaces, "1.0", overflow) is refused
// with the variable and its value, since a silently misread rank would join the wrong group.
int parse_env_int(const char* name, const std::string& text, long lo, long hi) {
  errno = 0;
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  const std::string shown = std::string(name) + "='" + text + "'";
  const bool starts_well = !text.empty() && (std::isdigit(static_cast<unsigned char>(text[0])) ||
                                             text[0] == '-');  // strtoll would skip spaces
  if (!starts_well || end != text.c_str() + text.size() || errno == ERANGE) {
    throw InvalidArgument("environment variable " + shown + " is not an integer");
  }
  if (value < lo || value > hi) {
    throw InvalidArgument("environment variable " + shown + " is out of range [" +
                          std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return static_cast<int>(value);
}

}  // namespace

void validate(const DistributedConfig& config) {
  if (config.world_size < 1) {
    throw InvalidArgument("DistributedConfig: world_size must be at least 1, got " +
                          std::to_string(config.world_size));
  }
  if (config.rank < 0 || config.rank >= config.world_size) {
    throw InvalidArgument("DistributedConfig: rank must be in [0, " +
                          std::to_string(config.world_size - 1) + "] (world_size " +
                          std::to_string(config.world_size) + "), got " +
                          std::to_string(config.rank));
  }
  if (config.timeout.count() <= 0) {
    throw InvalidArgument("DistributedConfig: timeout must be positive, got " +
                          std::to_string(config.timeout.count()) + " ms");
  }
  if (config.world_size == 1 || !config.file_store.empty()) return;
  if (config.master_addr.empty()) {
    throw InvalidArgument("DistributedConfig: master_addr is empty (rank 0's host is needed)");
  }
  if (config.master_port < 1 || config.master_port > 65535) {
    throw InvalidArgument("DistributedConfig: master_port must be in [1, 65535], got " +
                          std::to_string(config.master_port));
  }
}

DistributedConfig distributed_config_from_env() {
  DistributedConfig config;
  const auto rank = env("RANK");
  const auto world_size = env("WORLD_SIZE");
  if (rank.has_value() != world_size.has_value()) {
    throw InvalidArgument(rank ? "environment variable RANK='" + *rank +
                                     "' is set but WORLD_SIZE is not; set both or neither"
                               : "environment variable WORLD_SIZE='" + *world_size +
                                     "' is set but RANK is not; set both or neither");
  }
  if (!rank) return config;  // not launched as a worker: a single process
  // Upper bounds: far beyond any CPU job, low enough that sizes derived from them cannot overflow.
  config.world_size = parse_env_int("WORLD_SIZE", *world_size, 1, 1 << 16);
  config.rank = parse_env_int("RANK", *rank, 0, 1 << 16);
  if (config.rank >= config.world_size) {
    throw InvalidArgument("environment variable RANK='" + *rank +
                          "' must be less than WORLD_SIZE='" + *world_size + "'");
  }
  if (const auto addr = env("MASTER_ADDR")) {
    if (addr->empty()) throw InvalidArgument("environment variable MASTER_ADDR is set but empty");
    config.master_addr = *addr;
  }
  if (const auto port = env("MASTER_PORT")) {
    config.master_port = parse_env_int("MASTER_PORT", *port, 1, 65535);
  }
  return config;
}

}  // namespace pplug
