// config.json readers, from a file as pplug reads them: the first input byte picks
// load_llama_config (0), load_t5_config (1) or load_bert_config (2) (mod 3); the rest is the
// JSON. An accepted Llama or BERT config is written back (save_*_config) and must read back to a
// config that writes the very same file.
#include <cstdio>
#include <cstdlib>

#include "format/bert_config.h"
#include "fuzz_support.h"
#include "pplug/llama_config.h"
#include "pplug/t5_config.h"
#include "util/file_io.h"

using namespace pplug;

namespace {

template <class Load, class Save>
void round_trip(const std::string& path, Load load, Save save) {
  const auto config = load(path);
  const std::string again = path + ".again.json";
  save(config, again);
  const std::string first = detail::read_file(again);
  save(load(again), again);
  if (detail::read_file(again) != first) {
    std::fprintf(stderr, "pplug fuzz: config.json round trip changed the file\n");
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::quiet_logs();
  if (size == 0) return 0;
  fuzz::TempFile file("config.json", data + 1, size - 1);
  fuzz::expect_documented([&] {
    switch (data[0] % 3) {
      case 0:
        round_trip(file.path(), load_llama_config, save_llama_config);
        break;
      case 1:
        (void)load_t5_config(file.path());
        break;
      default:
        round_trip(file.path(), bert::load_bert_config, bert::save_bert_config);
        break;
    }
  });
  return 0;
}
