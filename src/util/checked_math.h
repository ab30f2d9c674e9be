// Size arithmetic on numbers that come from files (dims, counts, offsets): every product and sum
// is checked, so a hostile header can never wrap around to a plausible value and slip past a
// size check. On overflow (or a negative operand) the helpers throw FormatError naming `where`
// (the file) and `field`, with the operands.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace pplug::detail {

// a * b and a + b for a, b >= 0; false (and *out untouched) when the result would not fit.
inline bool mul_fits(int64_t a, int64_t b, int64_t* out) {
  int64_t r = 0;
  if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &r)) return false;
  *out = r;
  return true;
}
inline bool add_fits(int64_t a, int64_t b, int64_t* out) {
  int64_t r = 0;
  if (a < 0 || b < 0 || __builtin_add_overflow(a, b, &r)) return false;
  *out = r;
  return true;
}

// a * b, a + b; throw FormatError("<where>: <field>: a x b overflows 64-bit sizes").
int64_t checked_mul(int64_t a, int64_t b, std::string_view where, std::string_view field);
int64_t checked_add(int64_t a, int64_t b, std::string_view where, std::string_view field);
// The product of all `factors` (1 for none), checked the same way.
int64_t checked_product(std::initializer_list<int64_t> factors, std::string_view where,
                        std::string_view field);
int64_t checked_product(const std::vector<int64_t>& factors, std::string_view where,
                        std::string_view field);
// An unsigned count from a file as int64; throws when it exceeds INT64_MAX.
int64_t checked_int64(uint64_t value, std::string_view where, std::string_view field);

}  // namespace pplug::detail
