#include "serve/metrics.h"

#include <algorithm>
#include <sstream>

namespace pplug::serve {
namespace {

std::string number(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

}  // namespace

Metrics::Metrics() {
  latency_.bounds = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  batch_.bounds = {1, 2, 4, 8, 16, 32, 64, 128};
  latency_.counts.assign(latency_.bounds.size() + 1, 0);
  batch_.counts.assign(batch_.bounds.size() + 1, 0);
}

void Metrics::Histogram::observe(double value) {
  const size_t bucket = std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin();
  ++counts[bucket];
  sum += value;
  ++count;
}

void Metrics::Histogram::render(std::string& out, const std::string& name) const {
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds.size(); ++i) {
    cumulative += counts[i];
    out += name + "_bucket{le=\"" + number(bounds[i]) + "\"} " + std::to_string(cumulative) + "\n";
  }
  out += name + "_bucket{le=\"+Inf\"} " + std::to_string(count) + "\n";
  out += name + "_sum " + number(sum) + "\n" + name + "_count " + std::to_string(count) + "\n";
}

void Metrics::count_request(const std::string& route, int status) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{route, status}];
}

void Metrics::observe_latency(double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  latency_.observe(seconds);
}

void Metrics::observe_batch(size_t rows) {
  std::lock_guard<std::mutex> lock(mutex_);
  batch_.observe(static_cast<double>(rows));
}

void Metrics::add_tokens(uint64_t prompt, uint64_t generated) {
  std::lock_guard<std::mutex> lock(mutex_);
  prompt_tokens_ += prompt;
  generated_tokens_ += generated;
}

std::string Metrics::render(const GaugeValues& g) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out;
  out += "# HELP pplug_requests_total HTTP requests by route and status.\n";
  out += "# TYPE pplug_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    out += "pplug_requests_total{route=\"" + key.first + "\",status=\"" +
           std::to_string(key.second) + "\"} " + std::to_string(n) + "\n";
  }
  // Tokens per second is rate(pplug_generated_tokens_total[1m]) on the Prometheus side.
  out += "# HELP pplug_prompt_tokens_total Prompt tokens read (BOS included, soft tokens not).\n";
  out += "# TYPE pplug_prompt_tokens_total counter\n";
  out += "pplug_prompt_tokens_total " + std::to_string(prompt_tokens_) + "\n";
  out += "# HELP pplug_generated_tokens_total Tokens generated.\n";
  out += "# TYPE pplug_generated_tokens_total counter\n";
  out += "pplug_generated_tokens_total " + std::to_string(generated_tokens_) + "\n";
  out += "# HELP pplug_request_seconds Completion latency, arrival to last token.\n";
  out += "# TYPE pplug_request_seconds histogram\n";
  latency_.render(out, "pplug_request_seconds");
  out += "# HELP pplug_batch_rows Rows (sequences) decoding together, per decode step.\n";
  out += "# TYPE pplug_batch_rows histogram\n";
  batch_.render(out, "pplug_batch_rows");
  out += "# HELP pplug_queue_length Completion requests waiting for the scheduler.\n";
  out += "# TYPE pplug_queue_length gauge\n";
  out += "pplug_queue_length " + std::to_string(g.queue_length) + "\n";
  out += "# HELP pplug_store_cached_users Users held in the in-memory LRU.\n";
  out += "# TYPE pplug_store_cached_users gauge\n";
  out += "pplug_store_cached_users " + std::to_string(g.cached_users) + "\n";
  out += "# TYPE pplug_store_writes_total counter\n";
  out += "pplug_store_writes_total " + std::to_string(g.store_writes) + "\n";
  out += "# TYPE pplug_store_cache_hits_total counter\n";
  out += "pplug_store_cache_hits_total " + std::to_string(g.store_cache_hits) + "\n";
  out += "# TYPE pplug_store_cache_misses_total counter\n";
  out += "pplug_store_cache_misses_total " + std::to_string(g.store_cache_misses) + "\n";
  return out;
}

}  // namespace pplug::serve
