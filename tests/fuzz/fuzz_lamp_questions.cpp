// LaMP questions files through the hand-written JSON scanner (parse_questions). The first byte
// picks the options: generic shape only, or one task's profile fields (LaMP_1..7,
// LongLaMP_1..4); the rest is the file's text. Accepted files are written back and read again:
// the writer must accept what the reader produced, and the round trip must be exact.
#include <cstdio>
#include <cstdlib>

#include "fuzz_support.h"
#include "pplug/lamp_data.h"

using namespace pplug;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::quiet_logs();
  if (size == 0) return 0;
  lamp::QuestionsReadOptions options;
  const int selector = data[0] % 12;  // 0: no task; 1..11: the tasks in enum order
  if (selector != 0) options.task = static_cast<lamp::Task>(selector);
  const std::string_view json(reinterpret_cast<const char*>(data + 1), size - 1);
  fuzz::expect_documented([&] {
    const std::vector<lamp::Question> questions = lamp::parse_questions(json, "fuzz.json", options);
    const std::string again = lamp::questions_to_json(questions);
    const std::vector<lamp::Question> reread = lamp::parse_questions(again, "again.json", options);
    if (lamp::questions_to_json(reread) != again) {
      std::fprintf(stderr, "pplug fuzz: questions round trip differs\n");
      std::abort();
    }
  });
  return 0;
}
