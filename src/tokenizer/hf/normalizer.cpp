#include "tokenizer/hf/normalizer.h"

#include <vector>

#include "text/utf8.h"
#include "tokenizer/hf/pattern.h"
#include "tokenizer/hf/unicode.h"

namespace pplug::hf {
namespace {

class UnicodeNormalizer : public Normalizer {
 public:
  explicit UnicodeNormalizer(NormalForm form) : form_(form) {}
  void normalize(std::string& text) const override { text = normalize_unicode(text, form_); }

 private:
  NormalForm form_;
};

class LowercaseNormalizer : public Normalizer {
 public:
  void normalize(std::string& text) const override { text = lowercase(text); }
};

class PrependNormalizer : public Normalizer {
 public:
  explicit PrependNormalizer(std::string prefix) : prefix_(std::move(prefix)) {}
  void normalize(std::string& text) const override {
    if (!text.empty()) text.insert(0, prefix_);
  }

 private:
  std::string prefix_;
};

class ReplaceNormalizer : public Normalizer {
 public:
  ReplaceNormalizer(std::unique_ptr<Regex> pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void normalize(std::string& text) const override {
    text = replace_all(*pattern_, text, content_);
  }

 private:
  std::unique_ptr<Regex> pattern_;
  std::string content_;
};

// Strips leading and/or trailing White_Space characters.
class StripNormalizer : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  void normalize(std::string& text) const override {
    std::size_t begin = 0;
    std::size_t end = text.size();
    while (left_ && begin < end) {
      std::size_t length = 0;
      if (!is_whitespace(detail::code_point_at(text, begin, &length))) break;
      begin += length;
    }
    while (right_ && end > begin) {
      std::size_t start = end - 1;
      while (start > begin && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
      std::size_t length = 0;
      if (!is_whitespace(detail::code_point_at(text, start, &length))) break;
      end = start;
    }
    text = text.substr(begin, end - begin);
  }

 private:
  bool left_;
  bool right_;
};

class SequenceNormalizer : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> steps)
      : steps_(std::move(steps)) {}
  void normalize(std::string& text) const override {
    for (const auto& step : steps_) step->normalize(text);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

}  // namespace

std::unique_ptr<Normalizer> make_bert_normalizer(const JsonAt& j);  // bert_normalizer.cpp

std::unique_ptr<Normalizer> parse_normalizer(const JsonAt& j) {
  if (j.value.is_null()) return nullptr;
  const std::string type = j.type();
  if (type == "NFC") return std::make_unique<UnicodeNormalizer>(NormalForm::kNfc);
  if (type == "NFD") return std::make_unique<UnicodeNormalizer>(NormalForm::kNfd);
  if (type == "NFKC") return std::make_unique<UnicodeNormalizer>(NormalForm::kNfkc);
  if (type == "NFKD") return std::make_unique<UnicodeNormalizer>(NormalForm::kNfkd);
  if (type == "Lowercase") return std::make_unique<LowercaseNormalizer>();
  if (type == "Prepend") return std::make_unique<PrependNormalizer>(j["prepend"].as_string());
  if (type == "Replace") {
    return std::make_unique<ReplaceNormalizer>(parse_pattern(j["pattern"]),
                                               j["content"].as_string());
  }
  if (type == "Strip") {
    return std::make_unique<StripNormalizer>(j.bool_or("strip_left", true),
                                             j.bool_or("strip_right", true));
  }
  if (type == "BertNormalizer") return make_bert_normalizer(j);
  if (type == "Sequence") {
    const JsonAt list = j["normalizers"];
    list.require_array();
    std::vector<std::unique_ptr<Normalizer>> steps;
    for (std::size_t i = 0; i < list.value.size(); ++i) {
      if (auto step = parse_normalizer(list.at(i))) steps.push_back(std::move(step));
    }
    return std::make_unique<SequenceNormalizer>(std::move(steps));
  }
  j["type"].fail("unsupported normalizer type");
}

}  // namespace pplug::hf
