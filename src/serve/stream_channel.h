// The hand-over between the scheduler thread, which produces server-sent events of a streamed
// completion, and the connection thread, which writes them to the client.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>

namespace pplug::serve {

class StreamChannel {
 public:
  // Queues one event (an SSE frame); false once the client is gone (generation should stop).
  bool push(std::string event);
  // Queues the last events and marks the stream finished.
  void finish(std::string events);
  // The next event, waiting for it; false when the stream is finished and drained.
  bool next(std::string& event);
  // The client went away: later push() calls return false.
  void cancel();

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::string> events_;
  bool finished_ = false;
  bool cancelled_ = false;
};

// "data: TEXT\n\n"
inline std::string sse_frame(const std::string& text) { return "data: " + text + "\n\n"; }

}  // namespace pplug::serve
