#include "serve/batch_scheduler.h"

#include <c10/util/Exception.h>

#include "pplug/error.h"

namespace pplug::serve {
namespace {

bool greedy(const GenerationOptions& o) { return o.temperature < kGreedyTemperature; }

}  // namespace

bool can_share_batch(const GenerationJob& a, const GenerationJob& b) {
  return greedy(a.options) && greedy(b.options) && (a.user == nullptr) == (b.user == nullptr) &&
         a.options.max_new_tokens == b.options.max_new_tokens &&
         a.options.stop_strings == b.options.stop_strings &&
         a.options.num_beams == b.options.num_beams &&
         a.options.stop_at_eos == b.options.stop_at_eos;
}

BatchScheduler::BatchScheduler(std::shared_ptr<const PersonaPlug> plug, SchedulerOptions options,
                               Metrics* metrics)
    : plug_(std::move(plug)), options_(options), metrics_(metrics) {
  thread_ = std::thread([this] { loop(); });
}

BatchScheduler::~BatchScheduler() { stop(); }

bool BatchScheduler::submit(std::shared_ptr<GenerationJob> job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ || queue_.size() >= options_.max_queue) return false;
    queue_.push_back(std::move(job));
  }
  wake_.notify_one();
  return true;
}

void BatchScheduler::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

size_t BatchScheduler::queue_length() {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.size();
}

BatchScheduler::Batch BatchScheduler::next_batch(std::unique_lock<std::mutex>& lock) {
  wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
  if (stopping_) return {};
  Batch batch = {queue_.front()};
  queue_.pop_front();
  int rows = batch.front()->n;
  for (auto it = queue_.begin(); it != queue_.end() && rows < options_.max_batch;) {
    if (rows + (*it)->n <= options_.max_batch && can_share_batch(*batch.front(), **it)) {
      rows += (*it)->n;
      batch.push_back(std::move(*it));
      it = queue_.erase(it);
    } else {
      ++it;
    }
  }
  return batch;
}

void BatchScheduler::loop() {
  for (;;) {
    Batch batch;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      batch = next_batch(lock);
      if (batch.empty()) break;
    }
    run(batch);
  }
  std::deque<std::shared_ptr<GenerationJob>> left;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    left.swap(queue_);
  }
  for (const auto& job : left) job->on_error(503, "the server is shutting down");
}

std::vector<GenerationResult> BatchScheduler::generate(const Batch& batch) const {
  // Row r of the batch is choice choice_of[r] of job job_of[r].
  std::vector<size_t> job_of, choice_of;
  for (size_t j = 0; j < batch.size(); ++j) {
    for (int c = 0; c < batch[j]->n; ++c) {
      job_of.push_back(j);
      choice_of.push_back(static_cast<size_t>(c));
    }
  }
  GenerationOptions options = batch.front()->options;
  bool streaming = false;
  for (const auto& job : batch) streaming = streaming || job->on_text != nullptr;
  if (streaming) {
    options.on_text = [&](size_t row, const std::string& delta) {
      const auto& job = batch[job_of[row]];
      return !job->on_text || job->on_text(choice_of[row], delta);
    };
  }
  if (batch.front()->user) {
    std::vector<UserRequest> requests;
    for (size_t j : job_of) requests.push_back({&batch[j]->user->embedding, batch[j]->input});
    return plug_->generate(requests, options);
  }
  std::vector<std::string> prompts;
  for (size_t j : job_of) prompts.push_back(batch[j]->input);
  return Generator(language_model_of(plug_->llm()), plug_->llm().tokenizer)
      .generate(prompts, options);
}

void BatchScheduler::run(const Batch& batch) {
  std::vector<GenerationResult> results;
  int status = 500;
  std::string error;
  try {
    results = generate(batch);
  } catch (const InvalidArgument& e) {
    status = 400;
    error = e.what();
  } catch (const c10::Error& e) {
    error = e.what_without_backtrace();
    error = error.substr(0, error.find('\n'));
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (!error.empty()) {
    // One request the library refuses (a prompt too long, say) must not fail its batch-mates:
    // each runs again alone, and only the culprit gets the error.
    if (batch.size() > 1) {
      for (const auto& job : batch) run({job});
    } else {
      batch.front()->on_error(status, error);
    }
    return;
  }
  if (metrics_) {
    metrics_->observe_batch(results.size());
    uint64_t prompt = 0, generated = 0;
    for (const auto& r : results) {
      prompt += r.prompt_ids.size();
      generated += r.generated_ids.size();
    }
    metrics_->add_tokens(prompt, generated);
  }
  size_t row = 0;
  for (const auto& job : batch) {
    std::vector<GenerationResult> mine(results.begin() + row, results.begin() + row + job->n);
    row += job->n;
    job->on_done(std::move(mine));
  }
}

}  // namespace pplug::serve
