#include "util/checked_math.h"

#include "pplug/error.h"

namespace pplug::detail {
namespace {

[[noreturn]] void overflow(std::string_view where, std::string_view field,
                           const std::string& what) {
  throw FormatError(std::string(where) + ": " + std::string(field) + ": " + what);
}

template <typename Range>
int64_t product(const Range& factors, std::string_view where, std::string_view field) {
  int64_t p = 1;
  std::string shown;
  for (const int64_t f : factors) shown += (shown.empty() ? "" : " x ") + std::to_string(f);
  for (const int64_t f : factors) {
    if (f < 0) overflow(where, field, "negative size " + std::to_string(f) + " in " + shown);
    if (!mul_fits(p, f, &p)) overflow(where, field, shown + " overflows 64-bit sizes");
  }
  return p;
}

}  // namespace

int64_t checked_mul(int64_t a, int64_t b, std::string_view where, std::string_view field) {
  return product(std::initializer_list<int64_t>{a, b}, where, field);
}

int64_t checked_add(int64_t a, int64_t b, std::string_view where, std::string_view field) {
  if (a < 0 || b < 0) {
    overflow(where, field, "negative size in " + std::to_string(a) + " + " + std::to_string(b));
  }
  int64_t sum = 0;
  if (!add_fits(a, b, &sum)) {
    overflow(where, field,
             std::to_string(a) + " + " + std::to_string(b) + " overflows 64-bit sizes");
  }
  return sum;
}

int64_t checked_product(std::initializer_list<int64_t> factors, std::string_view where,
                        std::string_view field) {
  return product(factors, where, field);
}

int64_t checked_product(const std::vector<int64_t>& factors, std::string_view where,
                        std::string_view field) {
  return product(factors, where, field);
}

int64_t checked_int64(uint64_t value, std::string_view where, std::string_view field) {
  if (value > static_cast<uint64_t>(INT64_MAX)) {
    overflow(where, field, std::to_string(value) + " exceeds the 64-bit signed range");
  }
  return static_cast<int64_t>(value);
}

}  // namespace pplug::detail
