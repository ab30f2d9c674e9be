// Unicode property tables used by the BERT basic tokenizer (see unicode_props.h for the queries).
// The data in unicode_tables.cpp is generated from Unicode 14.0 (Python 3.11's unicodedata);
// the generator is reproduced at the end of that file.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pplug::detail::unicode {

// An inclusive range of code points.
struct CodeRange {
  char32_t first;
  char32_t last;
};

// Code points first, first + stride, ..., last map to themselves plus `delta`.
struct CaseRun {
  char32_t first;
  char32_t last;
  int32_t delta;
  int32_t stride;  // 1 or 2 (alternating upper/lower pairs)
};

// A code point that maps to one other code point.
struct CodeMapping {
  char32_t from;
  char32_t to;
};

// A code point that maps to two or three code points (unused slots are 0).
struct CodeExpansion {
  char32_t from;
  char32_t to[3];
};

// A sorted, read-only array.
template <typename T>
struct Table {
  const T* data;
  std::size_t size;
  const T* begin() const { return data; }
  const T* end() const { return data + size; }
};

// General category P* (all punctuation), sorted disjoint ranges.
Table<CodeRange> punctuation_ranges();
// General category Mn (non-spacing marks), sorted disjoint ranges.
Table<CodeRange> nonspacing_mark_ranges();
// General categories Cc, Cf and Co (controls, format characters, private use).
Table<CodeRange> control_ranges();
// Simple lowercase mappings (Python str.lower() of one code point that yields one code point),
// sorted disjoint runs.
Table<CaseRun> lowercase_runs();
// Canonical decomposition (NFD) with the Mn marks removed, when it is one code point.
// Hangul syllables are not listed (their decomposition is algorithmic).
Table<CodeMapping> strip_single();
// The same when it is two or three code points.
Table<CodeExpansion> strip_multi();

}  // namespace pplug::detail::unicode
