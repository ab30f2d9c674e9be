#include "text/unicode_props.h"

#include <algorithm>

#include "text/unicode_tables.h"

namespace pplug::detail::unicode {
namespace {

bool in_ranges(const Table<CodeRange>& table, char32_t cp) {
  // The first range whose end is not below cp.
  const CodeRange* it = std::lower_bound(table.begin(), table.end(), cp,
                                         [](const CodeRange& r, char32_t c) { return r.last < c; });
  return it != table.end() && it->first <= cp;
}

// Hangul syllables decompose algorithmically into 2 or 3 conjoining jamo (Unicode ch. 3.12).
constexpr char32_t kHangulFirst = 0xAC00;
constexpr char32_t kHangulLast = 0xD7A3;
constexpr char32_t kJamoLeadFirst = 0x1100;
constexpr char32_t kJamoVowelFirst = 0x1161;
constexpr char32_t kJamoTrailBase = 0x11A7;
constexpr char32_t kJamoVowelCount = 21;
constexpr char32_t kJamoTrailCount = 28;

void append_hangul_jamo(char32_t cp, std::u32string& out) {
  const char32_t index = cp - kHangulFirst;
  out.push_back(kJamoLeadFirst + index / (kJamoVowelCount * kJamoTrailCount));
  out.push_back(kJamoVowelFirst + (index % (kJamoVowelCount * kJamoTrailCount)) / kJamoTrailCount);
  if (index % kJamoTrailCount != 0) out.push_back(kJamoTrailBase + index % kJamoTrailCount);
}

}  // namespace

bool is_bert_whitespace(char32_t cp) {
  switch (cp) {
    case U' ':
    case U'\t':
    case U'\n':
    case U'\r':
    case 0x00A0:
    case 0x1680:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;  // the remaining Zs characters
  }
}

bool is_bert_control(char32_t cp) {
  if (cp == U'\t' || cp == U'\n' || cp == U'\r') return false;
  return in_ranges(control_ranges(), cp);
}

bool is_bert_punctuation(char32_t cp) {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
      (cp >= 123 && cp <= 126)) {
    return true;
  }
  return cp >= 0x80 && in_ranges(punctuation_ranges(), cp);
}

bool is_cjk_ideograph(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

bool is_nonspacing_mark(char32_t cp) {
  return cp >= 0x0300 && in_ranges(nonspacing_mark_ranges(), cp);
}

void append_lowercase(char32_t cp, std::u32string& out) {
  if (cp < 0x80) {
    out.push_back(cp >= U'A' && cp <= U'Z' ? cp + 32 : cp);
    return;
  }
  if (cp == 0x0130) {  // the one unconditional multi-code-point lowercase mapping
    out.push_back(U'i');
    out.push_back(0x0307);
    return;
  }
  const Table<CaseRun> runs = lowercase_runs();
  const CaseRun* it = std::lower_bound(runs.begin(), runs.end(), cp,
                                       [](const CaseRun& r, char32_t c) { return r.last < c; });
  if (it != runs.end() && it->first <= cp && (cp - it->first) % it->stride == 0) {
    out.push_back(static_cast<char32_t>(static_cast<int32_t>(cp) + it->delta));
  } else {
    out.push_back(cp);
  }
}

void append_accent_stripped(char32_t cp, std::u32string& out) {
  if (cp < 0xC0) {  // nothing below U+00C0 decomposes or is a combining mark
    out.push_back(cp);
    return;
  }
  if (cp >= kHangulFirst && cp <= kHangulLast) {
    append_hangul_jamo(cp, out);
    return;
  }
  if (is_nonspacing_mark(cp)) return;
  const Table<CodeMapping> single = strip_single();
  const CodeMapping* one =
      std::lower_bound(single.begin(), single.end(), cp,
                       [](const CodeMapping& m, char32_t c) { return m.from < c; });
  if (one != single.end() && one->from == cp) {
    out.push_back(one->to);
    return;
  }
  const Table<CodeExpansion> multi = strip_multi();
  const CodeExpansion* many =
      std::lower_bound(multi.begin(), multi.end(), cp,
                       [](const CodeExpansion& m, char32_t c) { return m.from < c; });
  if (many != multi.end() && many->from == cp) {
    for (char32_t part : many->to) {
      if (part != 0) out.push_back(part);
    }
    return;
  }
  out.push_back(cp);
}

}  // namespace pplug::detail::unicode
