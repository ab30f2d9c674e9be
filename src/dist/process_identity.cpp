#include "dist/process_identity.h"

#include <unistd.h>

#include <climits>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace pplug::dist {
namespace {

struct Identity {
  std::string host, pid_namespace, pid, start_time;
};

std::string hostname() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "unknown-host";
  return name;
}

// Pids are only comparable inside one pid namespace (containers on one host have their own).
std::string pid_namespace() {
  char link[PATH_MAX] = {};
  const ssize_t n = ::readlink("/proc/self/ns/pid", link, sizeof(link) - 1);
  return n > 0 ? std::string(link, static_cast<size_t>(n)) : "unknown-pidns";
}

// Fields 3 (state) and 22 (start time in clock ticks since boot) of /proc/<pid>/stat: the start
// time tells a reused pid from the original process. Empty when the process does not exist.
std::vector<std::string> stat_fields(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/stat");
  std::string line;
  if (!in || !std::getline(in, line)) return {};
  const size_t close = line.rfind(')');  // the command name may hold spaces and parentheses
  if (close == std::string::npos) return {};
  std::istringstream rest(line.substr(close + 1));
  std::vector<std::string> fields;
  for (std::string field; rest >> field;) fields.push_back(field);
  if (fields.size() < 20) return {};
  return {fields[0], fields[19]};
}

Identity parse(const std::string& text) {
  std::istringstream in(text);
  Identity id;
  in >> id.host >> id.pid_namespace >> id.pid >> id.start_time;
  return id;
}

}  // namespace

std::string this_process_identity() {
  const std::string pid = std::to_string(::getpid());
  const auto stat = stat_fields(pid);
  const std::string start = stat.empty() ? "0" : stat[1];
  return hostname() + " " + pid_namespace() + " " + pid + " " + start;
}

std::string identity_pid(const std::string& identity) {
  const Identity id = parse(identity);
  return id.pid.empty() ? "?" : id.pid;
}

bool process_has_exited(const std::string& identity) {
  const Identity id = parse(identity);
  if (id.start_time.empty() || id.host != hostname() || id.pid_namespace != pid_namespace()) {
    return false;
  }
  const auto stat = stat_fields(id.pid);
  if (stat.empty()) return true;
  return stat[0] == "Z" || stat[0] == "X" || stat[1] != id.start_time;
}

}  // namespace pplug::dist
