// Progress of a long loop (training steps, evaluation batches): a live bar on a terminal, plain
// log lines otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace pplug::detail {

class Progress {
 public:
  Progress(int64_t total_steps, bool bar_allowed, int log_every);
  void update(int64_t step, int epoch, double loss, double examples_per_second);
  void finish();

 private:
  int64_t total_;
  bool bar_;
  int log_every_;
  std::chrono::steady_clock::time_point start_;
  int64_t first_step_ = -1;
};

}  // namespace pplug::detail
