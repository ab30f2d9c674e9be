// The LaMP retrieval baselines over one user's profile: BM25 (rank_bm25's BM25Okapi, ported
// exactly) and recency, with the per-task query and document text.
//
// Tie rule (both methods): among equal scores (equal dates), the item later in the profile comes
// first. This is what a stable ascending sort followed by a reversal gives, i.e. the LaMP
// recency code, and what `argsort(...)[::-1]` gives for BM25 when the sort is stable.
// Recency: dates "YYYY-MM-DD" compare as integer tuples (as the LaMP code does); items whose
// date is missing or not of that form rank after every dated item, later items first.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pplug/lamp_data.h"
#include "pplug/lamp_task.h"

namespace pplug::lamp {

// Parameters of BM25Okapi (rank_bm25 defaults).
struct Bm25Options {
  double k1 = 1.5;        // term-frequency saturation
  double b = 0.75;        // length normalisation
  double epsilon = 0.25;  // negative idf -> epsilon * mean idf
};

// rank_bm25.BM25Okapi over pre-tokenized documents. Immutable after construction, so concurrent
// scores() calls are safe.
class Bm25Okapi {
 public:
  explicit Bm25Okapi(const std::vector<std::vector<std::string>>& corpus,
                     const Bm25Options& options = {});
  // One score per document; query tokens are counted with their duplicates, unknown ones add 0.
  std::vector<double> scores(const std::vector<std::string>& query) const;
  // The (epsilon-floored) idf of a term, 0 when it is not in the corpus.
  double idf(const std::string& term) const;
  double average_idf() const { return average_idf_; }
  double average_length() const { return avgdl_; }

 private:
  Bm25Options options_;
  std::vector<std::unordered_map<std::string, int>> doc_freqs_;  // term counts per document
  std::vector<double> doc_len_;
  std::unordered_map<std::string, double> idf_;
  double avgdl_ = 0;
  double average_idf_ = 0;
};

// Python's str.split() (Unicode whitespace), the tokenizer of the LaMP BM25 baseline.
std::vector<std::string> whitespace_tokens(std::string_view text);

// Indices ordered by descending score, ties: higher index first (see the tie rule above).
std::vector<size_t> rank_by_score(const std::vector<double>& scores);

enum class RetrievalMethod {
  kBm25,     // BM25Okapi between the query part of the input and each item's document text
  kRecency,  // newest "date" first
};
// "bm25" or "recency"; throws InvalidArgument otherwise.
RetrievalMethod parse_retrieval_method(std::string_view name);

// The query part of an input (LaMP-2: the text after "description:", ...; see docs/lamp.md).
// When the marker is missing (one real LaMP-2 query has no instruction) the stripped input is
// used; LaMP-1 falls back likewise when the input has fewer than three quoted strings.
// Throws InvalidArgument for LongLaMP tasks (no baseline is defined for them).
std::string retrieval_query(Task task, std::string_view input);
// The document text of a profile item (LaMP-4: title + " " + text, ...). Missing fields are "".
std::string retrieval_document(Task task, const ProfileItem& item);

// Ranks the question's own profile; returns item indices best first, at most k (0: all).
std::vector<size_t> rank_profile(Task task, const Question& question, RetrievalMethod method,
                                 size_t k = 0);

// {"<question id>": ["<item id>", ... best first], ...} in file order (the `retrieve` verb).
std::string retrieval_json(Task task, const std::vector<Question>& questions,
                           RetrievalMethod method, size_t k = 0);

}  // namespace pplug::lamp
