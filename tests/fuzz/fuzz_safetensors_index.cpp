// model.safetensors.index.json text (parse_safetensors_index: weight_map, tensor -> shard).
// Accepted: every shard is a plain file name listing at least one tensor, each tensor once.
#include <cstdio>
#include <cstdlib>
#include <set>

#include "format/safetensors_header.h"
#include "fuzz_support.h"

using namespace pplug;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::quiet_logs();
  const std::string text(reinterpret_cast<const char*>(data), size);
  fuzz::expect_documented([&] {
    const auto by_file = detail::parse_safetensors_index(text, "fuzz.index.json");
    std::set<std::string> seen;
    for (const auto& [shard, names] : by_file) {
      if (shard.find('/') != std::string::npos || names.empty()) {
        std::fprintf(stderr, "pplug fuzz: accepted index has a bad shard '%s'\n", shard.c_str());
        std::abort();
      }
      for (const std::string& name : names) {
        if (!seen.insert(name).second) {
          std::fprintf(stderr, "pplug fuzz: tensor '%s' in two shards\n", name.c_str());
          std::abort();
        }
      }
    }
  });
  return 0;
}
