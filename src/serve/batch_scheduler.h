// Continuous batching across users: completion requests wait in a bounded queue; one scheduler
// thread runs a GenerationBatch and, before every decode step, moves queued requests into it
// while it has free rows (--max-batch; a request with n choices takes n rows), oldest first. A
// request leaves the batch the step it finishes, so a short request never waits for a long one.
// Personalized and plain requests, greedy or sampled, with any options, share the batch; each
// request's output equals running it alone (a sampled one keeps its own seeded generator).
// Encoder-decoders (T5) take requests only before the batch's first step (GenerationBatch).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "pplug/persona_plug.h"
#include "serve/metrics.h"
#include "serve/user_record.h"

namespace pplug::serve {

// One completion request as the scheduler runs it. Callbacks run on the scheduler thread.
struct GenerationJob {
  std::shared_ptr<const UserRecord> user;  // null = the plain frozen model
  std::string input;                       // task input (personalized) or prompt (plain)
  GenerationOptions options;               // on_text is the scheduler's; set `on_text` below
  int n = 1;                               // choices: rows of the batch
  // Streaming (optional): a text delta of choice `choice`; return false to stop it.
  std::function<bool(size_t choice, const std::string& delta)> on_text;
  std::function<void(std::vector<GenerationResult> results)> on_done;  // n results
  // status: 400 for an invalid request the library refused, 500 otherwise, 503 at shutdown.
  std::function<void(int status, const std::string& message)> on_error;
};

struct SchedulerOptions {
  int max_batch = 8;      // rows (sum of n) decoding at once at most
  size_t max_queue = 64;  // queued requests at most; submit() refuses beyond
};

class BatchScheduler {
 public:
  BatchScheduler(std::shared_ptr<const PersonaPlug> plug, SchedulerOptions options,
                 Metrics* metrics);
  ~BatchScheduler();  // stop()
  BatchScheduler(const BatchScheduler&) = delete;
  BatchScheduler& operator=(const BatchScheduler&) = delete;

  // Queues the job; false (and nothing queued) when the queue is full or the scheduler stopped.
  bool submit(std::shared_ptr<GenerationJob> job);
  // Finishes the running requests, fails the queued ones (503) and joins the thread.
  void stop();
  size_t queue_length();

 private:
  void loop();
  // Queued jobs that fit the batch now, oldest first (a job that does not fit holds back the
  // ones behind it, so that a wide request is not starved by narrow ones).
  std::vector<std::shared_ptr<GenerationJob>> admissible(std::unique_lock<std::mutex>& lock);
  // Starts the job in the batch; on failure tells the job (400/500) and returns false.
  bool admit(const std::shared_ptr<GenerationJob>& job);
  // One decode step; delivers the jobs that finished. A failing step fails every running job.
  void step();

  std::shared_ptr<const PersonaPlug> plug_;
  SchedulerOptions options_;
  Metrics* metrics_;
  GenerationBatch batch_;  // touched by the scheduler thread only
  std::unordered_map<uint64_t, std::shared_ptr<GenerationJob>> running_;  // by group id
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<GenerationJob>> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace pplug::serve
