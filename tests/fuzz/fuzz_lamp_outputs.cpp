// LaMP outputs / golds / prediction files (parse_outputs, the JSON scanner's other reader).
// Accepted files are written back for their task when the "task" member names one, and the
// result must read back to the same golds.
#include <cstdio>
#include <cstdlib>

#include "fuzz_support.h"
#include "pplug/lamp_data.h"

using namespace pplug;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::quiet_logs();
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  fuzz::expect_documented([&] {
    const lamp::OutputsFile file = lamp::parse_outputs(json, "fuzz.json");
    const lamp::Task task = lamp::parse_task(file.task);  // InvalidArgument when unknown
    const lamp::OutputsFile reread =
        lamp::parse_outputs(lamp::outputs_to_json(task, file.golds), "again.json");
    bool same = reread.golds.size() == file.golds.size();
    for (size_t i = 0; same && i < file.golds.size(); ++i) {
      same =
          reread.golds[i].id == file.golds[i].id && reread.golds[i].output == file.golds[i].output;
    }
    if (!same) {
      std::fprintf(stderr, "pplug fuzz: outputs round trip differs\n");
      std::abort();
    }
  });
  return 0;
}
