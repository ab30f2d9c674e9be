#include "tokenizer/hf/unicode.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/ustring.h>

#include "pplug/error.h"
#include "text/utf8.h"

namespace pplug::hf {
namespace {

const icu::Normalizer2& normalizer_for(NormalForm form) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* n = nullptr;
  switch (form) {
    case NormalForm::kNfc:
      n = icu::Normalizer2::getNFCInstance(status);
      break;
    case NormalForm::kNfd:
      n = icu::Normalizer2::getNFDInstance(status);
      break;
    case NormalForm::kNfkc:
      n = icu::Normalizer2::getNFKCInstance(status);
      break;
    case NormalForm::kNfkd:
      n = icu::Normalizer2::getNFKDInstance(status);
      break;
  }
  if (U_FAILURE(status) || n == nullptr) {
    throw Error(std::string("ICU normalizer unavailable: ") + u_errorName(status));
  }
  return *n;
}

bool is_ascii(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

}  // namespace

std::string normalize_unicode(std::string_view text, NormalForm form) {
  if (is_ascii(text)) return std::string(text);  // ASCII is invariant under every form
  const icu::Normalizer2& normalizer = normalizer_for(form);
  const icu::UnicodeString source = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  UErrorCode status = U_ZERO_ERROR;
  const icu::UnicodeString result = normalizer.normalize(source, status);
  if (U_FAILURE(status))
    throw Error(std::string("ICU normalization failed: ") + u_errorName(status));
  std::string out;
  result.toUTF8String(out);
  return out;
}

std::string lowercase(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto c = static_cast<unsigned char>(text[pos]);
    if (c < 0x80) {
      out += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
      ++pos;
      continue;
    }
    std::size_t length = 0;
    const char32_t cp = detail::code_point_at(text, pos, &length);
    UChar source[2];
    int32_t source_length = 0;
    U16_APPEND_UNSAFE(source, source_length, cp);
    UChar lowered[16];
    UErrorCode status = U_ZERO_ERROR;
    const int32_t n = u_strToLower(lowered, 16, source, source_length, "", &status);
    if (U_FAILURE(status) || n > 16) {
      out.append(text.substr(pos, length));
    } else {
      for (int32_t i = 0; i < n;) {
        UChar32 lc = 0;
        U16_NEXT(lowered, i, n, lc);
        detail::append_utf8(out, static_cast<char32_t>(lc));
      }
    }
    pos += length;
  }
  return out;
}

bool is_whitespace(char32_t cp) { return u_isUWhiteSpace(static_cast<UChar32>(cp)) != 0; }

bool is_numeric(char32_t cp) {
  const int8_t type = u_charType(static_cast<UChar32>(cp));
  return type == U_DECIMAL_DIGIT_NUMBER || type == U_LETTER_NUMBER || type == U_OTHER_NUMBER;
}

bool is_alphanumeric(char32_t cp) {
  return u_hasBinaryProperty(static_cast<UChar32>(cp), UCHAR_ALPHABETIC) != 0 || is_numeric(cp);
}

}  // namespace pplug::hf
