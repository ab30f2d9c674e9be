#include "serve/stream_channel.h"

namespace pplug::serve {

bool StreamChannel::push(std::string event) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (cancelled_) return false;
    events_.push_back(std::move(event));
  }
  ready_.notify_one();
  return true;
}

void StreamChannel::finish(std::string events) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!events.empty()) events_.push_back(std::move(events));
    finished_ = true;
  }
  ready_.notify_one();
}

bool StreamChannel::next(std::string& event) {
  std::unique_lock<std::mutex> lock(mutex_);
  ready_.wait(lock, [this] { return finished_ || !events_.empty(); });
  if (events_.empty()) return false;
  event = std::move(events_.front());
  events_.pop_front();
  return true;
}

void StreamChannel::cancel() {
  std::lock_guard<std::mutex> lock(mutex_);
  cancelled_ = true;
}

}  // namespace pplug::serve
