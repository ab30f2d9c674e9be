// Batching across users: completion requests wait in a bounded queue; one scheduler thread
// takes the oldest and every queued request it can share a batch with (greedy, same options,
// personalized or not alike) up to max_batch rows, and runs them as one left-padded batch
// (PersonaPlug::generate over many users, or Generator::generate for the plain model).
//
// Not yet continuous batching: a request arriving during a batch waits for the next one.
// Sampled requests (temperature > 0) run alone, so that a seed reproduces its output whatever
// else is queued.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
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
  int max_batch = 8;      // rows (sum of n) per batch at most
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
  // Finishes the running batch, fails the queued jobs (503) and joins the thread.
  void stop();
  size_t queue_length();

 private:
  using Batch = std::vector<std::shared_ptr<GenerationJob>>;
  void loop();
  Batch next_batch(std::unique_lock<std::mutex>& lock);
  void run(const Batch& batch);
  // Runs the batch; throws what the library throws.
  std::vector<GenerationResult> generate(const Batch& batch) const;

  std::shared_ptr<const PersonaPlug> plug_;
  SchedulerOptions options_;
  Metrics* metrics_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<GenerationJob>> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

// True when two jobs may share a batch: both greedy, same options, both personalized or both
// plain.
bool can_share_batch(const GenerationJob& a, const GenerationJob& b);

}  // namespace pplug::serve
