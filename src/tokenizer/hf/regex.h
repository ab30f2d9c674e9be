// A compiled PCRE2 regular expression (UTF + UCP, JIT when available) with the match iteration
// of Hugging Face tokenizers' Oniguruma wrapper. Thread-safe: one instance may be used by many
// threads at once. Patterns written for Oniguruma are translated where the two dialects differ.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pplug::hf {

struct Match {
  std::size_t start = 0;
  std::size_t end = 0;
};

class Regex {
 public:
  // Compiles `pattern` (Oniguruma syntax, or a literal string when `literal`). Throws
  // FormatError "<where>: cannot compile regex ...: <reason> at offset N" when it cannot.
  Regex(const std::string& pattern, bool literal, const std::string& where);
  ~Regex();
  Regex(Regex&&) noexcept;
  Regex& operator=(Regex&&) noexcept;

  // Every match in `text` (valid UTF-8), left to right. An empty match right after the previous
  // match is skipped (the search moves on by one character), as Oniguruma's find_iter does.
  // Throws pplug::Error when the engine's backtracking limits are hit.
  std::vector<Match> find_all(std::string_view text) const;
  const std::string& pattern() const { return pattern_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string pattern_;
};

// Rewrites the Oniguruma constructs whose meaning differs in PCRE2 (\h, \H: hex digits).
std::string translate_oniguruma(const std::string& pattern);

}  // namespace pplug::hf
