// T5's relative-position buckets and the bias tables built from them.
#include <cmath>
#include <cstdlib>

#include "pplug/t5_model.h"

namespace pplug {

int64_t t5_relative_position_bucket(int64_t relative_position, bool bidirectional,
                                    int64_t num_buckets, int64_t max_distance) {
  int64_t bucket = 0;
  int64_t n = num_buckets;
  int64_t distance = 0;
  if (bidirectional) {
    n /= 2;
    if (relative_position > 0) bucket += n;  // keys after the query use the upper half
    distance = std::llabs(relative_position);
  } else {
    distance = relative_position < 0 ? -relative_position : 0;  // later keys are masked anyway
  }
  const int64_t max_exact = n / 2;
  if (distance < max_exact) return bucket + distance;
  // In float32, in HF's order of operations, so buckets agree with HF at their boundaries.
  const float ratio = static_cast<float>(distance) / static_cast<float>(max_exact);
  const auto span = static_cast<float>(std::log(static_cast<double>(max_distance) / max_exact));
  const float scaled = std::log(ratio) / span * static_cast<float>(n - max_exact);
  int64_t large = max_exact + static_cast<int64_t>(scaled);
  if (large > n - 1) large = n - 1;
  return bucket + large;
}

}  // namespace pplug
