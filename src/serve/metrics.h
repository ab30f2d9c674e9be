// The service's counters, rendered as Prometheus text (GET /metrics). Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace pplug::serve {

// Values read at render time from their owners (scheduler, store).
struct GaugeValues {
  size_t queue_length = 0;
  size_t cached_users = 0;
  uint64_t store_writes = 0;
  uint64_t store_cache_hits = 0;
  uint64_t store_cache_misses = 0;
};

class Metrics {
 public:
  Metrics();
  void count_request(const std::string& route, int status);
  // Seconds from a request's arrival to its last byte (streams: to the end of generation).
  void observe_latency(double seconds);
  void observe_batch(size_t rows);  // rows of one decode step of the running batch
  void add_tokens(uint64_t prompt, uint64_t generated);
  std::string render(const GaugeValues& gauges) const;

 private:
  struct Histogram {
    std::vector<double> bounds;    // upper bounds of the buckets (+Inf implied)
    std::vector<uint64_t> counts;  // per bucket (not cumulative), bounds.size() + 1
    double sum = 0;
    uint64_t count = 0;
    void observe(double value);
    void render(std::string& out, const std::string& name) const;
  };
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  Histogram latency_, batch_;
  uint64_t prompt_tokens_ = 0, generated_tokens_ = 0;
};

}  // namespace pplug::serve
