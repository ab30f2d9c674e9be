// The `pplug` executable: a small launcher that sets the OpenMP wait policy, then loads the
// command-line tool proper (libpplug_cli.so, which links libtorch) and runs it.
//
// Why a launcher: libgomp reads OMP_WAIT_POLICY once, when it is loaded. Its default lets idle
// threads spin, and on these 2-core machines a 2-thread forward then collapses as soon as another
// process holds a core (docs/benchmarks.md). A binary linked to libtorch loads libgomp before
// main() runs, too late to choose; loading the tool after choosing costs nothing, where a
// re-exec would pay libtorch's ~0.35 s start-up twice. A policy the user set is kept.
#include <dlfcn.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#ifndef PPLUG_CLI_MODULE_FROM_BINDIR
#define PPLUG_CLI_MODULE_FROM_BINDIR "../lib/libpplug_cli.so"
#endif

namespace {

std::string executable_dir() {
  char path[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (n <= 0) return ".";
  std::string exe(path, static_cast<size_t>(n));
  const size_t slash = exe.rfind('/');
  return slash == std::string::npos ? "." : exe.substr(0, slash);
}

}  // namespace

int main(int argc, char** argv) {
  ::setenv("OMP_WAIT_POLICY", "passive", /*overwrite=*/0);
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("PPLUG_CLI_MODULE"); env != nullptr && *env != '\0') {
    candidates.push_back(env);
  } else {
    const std::string dir = executable_dir();
    candidates.push_back(dir + "/../lib/libpplug_cli.so");           // build tree
    candidates.push_back(dir + "/" + PPLUG_CLI_MODULE_FROM_BINDIR);  // installed
  }
  std::string errors;
  for (const auto& path : candidates) {
    if (::access(path.c_str(), F_OK) != 0) {
      errors += "\n  " + path + ": not found";
      continue;
    }
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      errors += "\n  " + path + ": " + ::dlerror();
      continue;
    }
    using Entry = int (*)(int, char**);
    auto entry = reinterpret_cast<Entry>(::dlsym(handle, "pplug_cli_main"));
    if (entry == nullptr) {
      errors += "\n  " + path + ": no pplug_cli_main";
      continue;
    }
    return entry(argc, argv);
  }
  std::fprintf(stderr,
               "pplug: error: cannot load the command-line tool (set PPLUG_CLI_MODULE to "
               "libpplug_cli.so):%s\n",
               errors.c_str());
  return 2;
}
