// BertNormalizer with the semantics of Hugging Face tokenizers (Rust): clean_text drops NUL,
// U+FFFD and other-category (C*) characters except \t \n \r and turns whitespace into ' ';
// handle_chinese_chars puts spaces around CJK ideographs; strip_accents (default: lowercase)
// is NFD minus Mn marks; lowercase is per-character.
#include <unicode/uchar.h>

#include "text/unicode_props.h"
#include "text/utf8.h"
#include "tokenizer/hf/normalizer.h"
#include "tokenizer/hf/unicode.h"

namespace pplug::hf {
namespace {

bool is_other(char32_t cp) {
  const int8_t type = u_charType(static_cast<UChar32>(cp));
  return type == U_CONTROL_CHAR || type == U_FORMAT_CHAR || type == U_UNASSIGNED ||
         type == U_PRIVATE_USE_CHAR || type == U_SURROGATE;
}

class BertNormalizer : public Normalizer {
 public:
  BertNormalizer(bool clean_text, bool chinese, bool strip_accents, bool lowercase)
      : clean_text_(clean_text),
        chinese_(chinese),
        strip_accents_(strip_accents),
        lowercase_(lowercase) {}

  void normalize(std::string& text) const override {
    std::string out;
    out.reserve(text.size());
    for (std::size_t pos = 0; pos < text.size();) {
      std::size_t length = 0;
      const char32_t cp = detail::code_point_at(text, pos, &length);
      pos += length;
      if (clean_text_) {
        const bool keep_control = cp == '\t' || cp == '\n' || cp == '\r';
        if (cp == 0 || cp == 0xFFFD || (!keep_control && is_other(cp))) continue;
        if (keep_control || is_whitespace(cp)) {
          out += ' ';
          continue;
        }
      }
      if (chinese_ && detail::unicode::is_cjk_ideograph(cp)) {
        out += ' ';
        detail::append_utf8(out, cp);
        out += ' ';
        continue;
      }
      detail::append_utf8(out, cp);
    }
    if (strip_accents_) {
      const std::string decomposed = normalize_unicode(out, NormalForm::kNfd);
      out.clear();
      for (std::size_t pos = 0; pos < decomposed.size();) {
        std::size_t length = 0;
        const char32_t cp = detail::code_point_at(decomposed, pos, &length);
        if (u_charType(static_cast<UChar32>(cp)) != U_NON_SPACING_MARK) {
          out.append(decomposed, pos, length);
        }
        pos += length;
      }
    }
    text = lowercase_ ? lowercase(out) : std::move(out);
  }

 private:
  bool clean_text_;
  bool chinese_;
  bool strip_accents_;
  bool lowercase_;
};

}  // namespace

std::unique_ptr<Normalizer> make_bert_normalizer(const JsonAt& j) {
  const bool lower = j.bool_or("lowercase", true);
  return std::make_unique<BertNormalizer>(j.bool_or("clean_text", true),
                                          j.bool_or("handle_chinese_chars", true),
                                          j.bool_or("strip_accents", lower), lower);
}

}  // namespace pplug::hf
