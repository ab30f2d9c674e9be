#include "util/progress.h"

#include <unistd.h>

#include <cstdio>

#include "util/log.h"

namespace pplug::detail {

Progress::Progress(int64_t total_steps, bool bar_allowed, int log_every)
    : total_(total_steps),
      bar_(bar_allowed && ::isatty(STDERR_FILENO) != 0),
      log_every_(std::max(1, log_every)),
      start_(std::chrono::steady_clock::now()) {}

void Progress::update(int64_t step, int epoch, double loss, double examples_per_second) {
  if (first_step_ < 0) first_step_ = step - 1;
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double done = static_cast<double>(step - first_step_);
  const double eta = done > 0 ? elapsed / done * static_cast<double>(total_ - step) : 0.0;
  if (bar_) {
    constexpr int kWidth = 24;
    const int filled = total_ > 0 ? static_cast<int>(kWidth * step / total_) : kWidth;
    std::string bar(filled, '#');
    bar.resize(kWidth, ' ');
    std::fprintf(stderr, "\r[epoch %d] %lld/%lld |%s| loss %.4f  %.1f ex/s  ETA %02d:%02d ", epoch,
                 static_cast<long long>(step), static_cast<long long>(total_), bar.c_str(), loss,
                 examples_per_second, static_cast<int>(eta) / 60, static_cast<int>(eta) % 60);
    std::fflush(stderr);
  } else if (step % log_every_ == 0 || step == total_) {
    PPLUG_LOG_INFO("epoch {} step {}/{} loss {:.4f} {:.1f} ex/s ETA {:.0f}s", epoch, step, total_,
                   loss, examples_per_second, eta);
  }
}

void Progress::finish() {
  if (bar_) std::fprintf(stderr, "\n");
}

}  // namespace pplug::detail
