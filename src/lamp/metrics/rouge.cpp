// ROUGE-1 / ROUGE-L F-measure as Google's rouge_score computes them without stemming.
#include <algorithm>
#include <unordered_map>

#include "pplug/lamp_metrics.h"
#include "text/utf8.h"

namespace pplug::lamp {
namespace {

double fmeasure(double precision, double recall) {
  return precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
}

}  // namespace

std::vector<std::string> rouge_tokenize(std::string_view text) {
  std::vector<std::string> tokens;
  std::string current;
  auto flush = [&] {
    if (!current.empty()) tokens.push_back(std::move(current));
    current.clear();
  };
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x80) {
      ++i;
      char c = static_cast<char>(byte);
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
        current.push_back(c);
      } else {
        flush();
      }
      continue;
    }
    size_t length = 0;
    const char32_t cp = pplug::detail::code_point_at(text, i, &length);
    i += length;
    // The only non-ASCII code points whose Python lower() contains [a-z0-9]:
    if (cp == 0x212A) {  // KELVIN SIGN -> "k"
      current.push_back('k');
    } else if (cp == 0x130) {  // LATIN CAPITAL I WITH DOT ABOVE -> "i" + U+0307
      current.push_back('i');
      flush();
    } else {
      flush();
    }
  }
  flush();
  return tokens;
}

double rouge1_f(const std::vector<std::string>& prediction,
                const std::vector<std::string>& reference) {
  std::unordered_map<std::string_view, long> counts;
  for (const std::string& t : reference) ++counts[t];
  long overlap = 0;
  for (const std::string& t : prediction) {
    auto it = counts.find(t);
    if (it != counts.end() && it->second > 0) {
      --it->second;
      ++overlap;
    }
  }
  const double precision =
      static_cast<double>(overlap) / static_cast<double>(std::max<size_t>(prediction.size(), 1));
  const double recall =
      static_cast<double>(overlap) / static_cast<double>(std::max<size_t>(reference.size(), 1));
  return fmeasure(precision, recall);
}

double rougeL_f(const std::vector<std::string>& prediction,
                const std::vector<std::string>& reference) {
  if (prediction.empty() || reference.empty()) return 0.0;
  // Intern the reference tokens so the O(n m) table compares integers.
  std::unordered_map<std::string_view, int> ids;
  std::vector<int> ref(reference.size());
  for (size_t i = 0; i < reference.size(); ++i) {
    ref[i] = ids.emplace(reference[i], static_cast<int>(ids.size())).first->second;
  }
  std::vector<int> pred(prediction.size());
  for (size_t i = 0; i < prediction.size(); ++i) {
    auto it = ids.find(prediction[i]);
    pred[i] = it == ids.end() ? -1 : it->second;
  }
  std::vector<int> prev(pred.size() + 1, 0), cur(pred.size() + 1, 0);
  for (const int r : ref) {
    for (size_t j = 1; j <= pred.size(); ++j) {
      cur[j] = r == pred[j - 1] ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
    }
    std::swap(prev, cur);
  }
  const double lcs = prev[pred.size()];
  return fmeasure(lcs / static_cast<double>(prediction.size()),
                  lcs / static_cast<double>(reference.size()));
}

}  // namespace pplug::lamp
