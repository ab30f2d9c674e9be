// rank_bm25's BM25Okapi, with the floating-point operations in the same order as its numpy code
// so that scores (and therefore ties) match bit for bit.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "pplug/lamp_retrieval.h"
#include "text/python_str.h"

namespace pplug::lamp {

Bm25Okapi::Bm25Okapi(const std::vector<std::vector<std::string>>& corpus,
                     const Bm25Options& options)
    : options_(options) {
  // Document frequencies in first-occurrence order: Python's dict order, which fixes the order
  // in which idfs are summed into the average.
  std::unordered_map<std::string, long> nd_index;
  std::vector<std::pair<const std::string*, long>> nd;
  long num_tokens = 0;
  doc_freqs_.reserve(corpus.size());
  for (const auto& document : corpus) {
    doc_len_.push_back(static_cast<double>(document.size()));
    num_tokens += static_cast<long>(document.size());
    std::unordered_map<std::string, int> frequencies;
    for (const std::string& word : document) {
      if (++frequencies[word] == 1) {
        const auto [it, inserted] = nd_index.emplace(word, static_cast<long>(nd.size()));
        if (inserted) {
          nd.emplace_back(&it->first, 1);
        } else {
          ++nd[it->second].second;
        }
      }
    }
    doc_freqs_.push_back(std::move(frequencies));
  }
  if (corpus.empty()) return;
  avgdl_ = static_cast<double>(num_tokens) / static_cast<double>(corpus.size());
  if (nd.empty()) return;
  const auto n = static_cast<double>(corpus.size());
  double idf_sum = 0;
  std::vector<const std::string*> negative;
  for (const auto& [word, freq] : nd) {
    const auto f = static_cast<double>(freq);
    const double value = std::log(n - f + 0.5) - std::log(f + 0.5);
    idf_[*word] = value;
    idf_sum += value;
    if (value < 0) negative.push_back(word);
  }
  average_idf_ = idf_sum / static_cast<double>(idf_.size());
  const double eps = options_.epsilon * average_idf_;
  for (const std::string* word : negative) idf_[*word] = eps;
}

double Bm25Okapi::idf(const std::string& term) const {
  const auto it = idf_.find(term);
  return it == idf_.end() ? 0.0 : it->second;
}

std::vector<double> Bm25Okapi::scores(const std::vector<std::string>& query) const {
  std::vector<double> score(doc_freqs_.size(), 0.0);
  if (avgdl_ == 0) return score;  // every document empty (rank_bm25 would divide by zero)
  const double k1 = options_.k1;
  const double b = options_.b;
  for (const std::string& q : query) {
    const double q_idf = idf(q);
    for (size_t d = 0; d < doc_freqs_.size(); ++d) {
      const auto it = doc_freqs_[d].find(q);
      const double tf = it == doc_freqs_[d].end() ? 0.0 : static_cast<double>(it->second);
      // numpy: idf * (tf * (k1 + 1) / (tf + k1 * (1 - b + b * doc_len / avgdl)))
      score[d] += q_idf * (tf * (k1 + 1) / (tf + k1 * (1 - b + b * doc_len_[d] / avgdl_)));
    }
  }
  return score;
}

std::vector<std::string> whitespace_tokens(std::string_view text) {
  std::vector<std::string> out;
  for (std::string_view piece : pplug::detail::unicode::py_split(text)) out.emplace_back(piece);
  return out;
}

std::vector<size_t> rank_by_score(const std::vector<double>& scores) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    // NaN (0 / 0 when every document is empty) sorts last.
    const bool a_nan = std::isnan(scores[a]);
    const bool b_nan = std::isnan(scores[b]);
    if (a_nan != b_nan) return b_nan;
    if (!a_nan && scores[a] != scores[b]) return scores[a] > scores[b];
    return a > b;
  });
  return order;
}

}  // namespace pplug::lamp
