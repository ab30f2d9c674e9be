#include "serve/batch_scheduler.h"

#include <c10/util/Exception.h>

#include "pplug/error.h"

namespace pplug::serve {
namespace {

// The message of what the library threw, and the status it deserves: 400 for a request it
// refused as invalid, 500 for anything else.
std::pair<int, std::string> describe(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const InvalidArgument& e) {
    return {400, e.what()};
  } catch (const c10::Error& e) {
    const std::string message = e.what_without_backtrace();
    return {500, message.substr(0, message.find('\n'))};
  } catch (const std::exception& e) {
    return {500, e.what()};
  } catch (...) {
    return {500, "unknown error"};
  }
}

}  // namespace

BatchScheduler::BatchScheduler(std::shared_ptr<const PersonaPlug> plug, SchedulerOptions options,
                               Metrics* metrics)
    : plug_(std::move(plug)),
      options_(options),
      metrics_(metrics),
      batch_(Generator(language_model_of(plug_->llm()), plug_->llm().tokenizer)) {
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

std::vector<std::shared_ptr<GenerationJob>> BatchScheduler::admissible(
    std::unique_lock<std::mutex>& lock) {
  wake_.wait(lock, [this] { return stopping_ || !queue_.empty() || !batch_.empty(); });
  std::vector<std::shared_ptr<GenerationJob>> jobs;
  if (stopping_) return jobs;  // finish what runs, admit nothing more
  auto rows = static_cast<int>(batch_.sequences());
  // A job wider than the whole batch still runs, alone: refusing it would starve it forever.
  while (!queue_.empty() && batch_.can_join() &&
         (rows == 0 || rows + queue_.front()->n <= options_.max_batch)) {
    rows += queue_.front()->n;
    jobs.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return jobs;
}

bool BatchScheduler::admit(const std::shared_ptr<GenerationJob>& job) {
  GenerationOptions options = job->options;
  options.on_text = job->on_text;  // choice i of the job is sequence i of its group
  try {
    uint64_t group = 0;
    if (job->user) {
      const std::vector<UserRequest> rows(static_cast<size_t>(job->n),
                                          UserRequest{&job->user->embedding, job->input});
      group = plug_->add_to(batch_, rows, options);
    } else {
      group = batch_.add_text(std::vector<std::string>(static_cast<size_t>(job->n), job->input),
                              options);
    }
    running_[group] = job;
    return true;
  } catch (...) {
    const auto [status, message] = describe(std::current_exception());
    job->on_error(status, message);
    return false;
  }
}

void BatchScheduler::step() {
  if (metrics_) metrics_->observe_batch(batch_.sequences());
  std::vector<GenerationBatch::Finished> finished;
  try {
    finished = batch_.step();
  } catch (...) {
    // The batch is empty now (GenerationBatch::step): every running request is lost.
    const auto [status, message] = describe(std::current_exception());
    for (auto& [group, job] : running_) job->on_error(status, message);
    running_.clear();
    return;
  }
  for (auto& done : finished) {
    const auto it = running_.find(done.group);
    if (it == running_.end()) continue;
    const auto job = it->second;
    running_.erase(it);
    if (metrics_) {
      uint64_t prompt = 0, generated = 0;
      for (const auto& r : done.results) {
        prompt += r.prompt_ids.size();
        generated += r.generated_ids.size();
      }
      metrics_->add_tokens(prompt, generated);
    }
    job->on_done(std::move(done.results));
  }
}

void BatchScheduler::loop() {
  for (;;) {
    std::vector<std::shared_ptr<GenerationJob>> jobs;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      jobs = admissible(lock);
      if (stopping_ && batch_.empty()) break;
    }
    for (const auto& job : jobs) admit(job);
    if (!batch_.empty()) step();
  }
  std::deque<std::shared_ptr<GenerationJob>> left;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    left.swap(queue_);
  }
  for (const auto& job : left) job->on_error(503, "the server is shutting down");
}

}  // namespace pplug::serve
