#include "tokenizer/hf/pre_tokenizer.h"

#include <unicode/uchar.h>

#include <algorithm>
#include <functional>

#include "text/utf8.h"
#include "tokenizer/hf/byte_level.h"
#include "tokenizer/hf/pattern.h"
#include "tokenizer/hf/unicode.h"

namespace pplug::hf {

const char* const kGpt2Regex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

namespace {

// Oniguruma's \w (Letter, Mark, Decimal_Number, Connector_Punctuation) spelled out for PCRE2.
const char* const kWhitespaceRegex = R"([\p{L}\p{M}\p{Nd}\p{Pc}]+|[^\p{L}\p{M}\p{Nd}\p{Pc}\s]+)";

// One match per character for which `pred` holds (HF's Fn(char) -> bool patterns).
std::vector<Match> char_matches(const std::string& text,
                                const std::function<bool(char32_t)>& pred) {
  std::vector<Match> matches;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t length = 0;
    const char32_t cp = detail::code_point_at(text, pos, &length);
    if (pred(cp)) matches.push_back({pos, pos + length});
    pos += length;
  }
  return matches;
}

bool is_punctuation(char32_t cp) {
  if (cp < 0x80)
    return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
           (cp >= 123 && cp <= 126);
  return u_ispunct(static_cast<UChar32>(cp)) != 0;
}

// Applies `split` to every piece.
template <typename Fn>
void for_each_piece(std::vector<Piece>& pieces, Fn&& split) {
  std::vector<Piece> out;
  out.reserve(pieces.size());
  for (const Piece& piece : pieces) split(piece, out);
  pieces = std::move(out);
}

class SplitPreTokenizer : public PreTokenizer {
 public:
  SplitPreTokenizer(std::unique_ptr<Regex> pattern, SplitBehavior behavior, bool invert)
      : pattern_(std::move(pattern)), behavior_(behavior), invert_(invert) {}
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    for_each_piece(pieces, [&](const Piece& piece, std::vector<Piece>& out) {
      split_piece(piece, pattern_->find_all(piece.text), behavior_, invert_, out);
    });
  }

 private:
  std::unique_ptr<Regex> pattern_;
  SplitBehavior behavior_;
  bool invert_;
};

class CharSplitPreTokenizer : public PreTokenizer {
 public:
  CharSplitPreTokenizer(std::function<bool(char32_t)> pred, SplitBehavior behavior)
      : pred_(std::move(pred)), behavior_(behavior) {}
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    for_each_piece(pieces, [&](const Piece& piece, std::vector<Piece>& out) {
      split_piece(piece, char_matches(piece.text, pred_), behavior_, false, out);
    });
  }

 private:
  std::function<bool(char32_t)> pred_;
  SplitBehavior behavior_;
};

class ByteLevelPreTokenizer : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex)
      : add_prefix_space_(add_prefix_space) {
    if (use_regex) regex_ = std::make_unique<Regex>(kGpt2Regex, false, "ByteLevel");
  }
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    for_each_piece(pieces, [&](const Piece& piece, std::vector<Piece>& out) {
      Piece p = piece;
      if (add_prefix_space_ && p.text[0] != ' ') p.text.insert(0, " ");
      if (regex_) {
        split_piece(p, regex_->find_all(p.text), SplitBehavior::kIsolated, false, out);
      } else {
        out.push_back(std::move(p));
      }
    });
    for (Piece& piece : pieces) piece.text = bytes_to_chars(piece.text);
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Regex> regex_;
};

enum class PrependScheme { kFirst, kAlways, kNever };

class MetaspacePreTokenizer : public PreTokenizer {
 public:
  MetaspacePreTokenizer(std::string replacement, PrependScheme scheme, bool split)
      : replacement_(std::move(replacement)), scheme_(scheme), split_(split) {
    std::size_t length = 0;
    replacement_cp_ = detail::code_point_at(replacement_, 0, &length);
  }
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    for_each_piece(pieces, [&](const Piece& piece, std::vector<Piece>& out) {
      Piece p{std::string(), piece.at_start};
      for (char c : piece.text) {
        if (c == ' ') {
          p.text += replacement_;
        } else {
          p.text += c;
        }
      }
      const bool starts = p.text.compare(0, replacement_.size(), replacement_) == 0;
      if (!starts &&
          (scheme_ == PrependScheme::kAlways || (scheme_ == PrependScheme::kFirst && p.at_start))) {
        p.text.insert(0, replacement_);
      }
      if (split_) {
        split_piece(p, char_matches(p.text, [&](char32_t cp) { return cp == replacement_cp_; }),
                    SplitBehavior::kMergedWithNext, false, out);
      } else if (!p.text.empty()) {
        out.push_back(std::move(p));
      }
    });
  }

 private:
  std::string replacement_;
  char32_t replacement_cp_ = 0;
  PrependScheme scheme_;
  bool split_;
};

class SequencePreTokenizer : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> steps)
      : steps_(std::move(steps)) {}
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    for (const auto& step : steps_) step->pre_tokenize(pieces);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

SplitBehavior parse_behavior(const JsonAt& j) {
  const std::string name = j.as_string();
  if (name == "Removed") return SplitBehavior::kRemoved;
  if (name == "Isolated") return SplitBehavior::kIsolated;
  if (name == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (name == "Contiguous") return SplitBehavior::kContiguous;
  j.fail("unknown split behavior");
}

std::unique_ptr<PreTokenizer> parse_metaspace(const JsonAt& j) {
  const JsonAt replacement = j["replacement"];
  std::string rep = j.has("replacement") ? replacement.as_string() : "\xE2\x96\x81";
  std::size_t length = 0;
  if (rep.empty() || detail::code_point_at(rep, 0, &length) == 0xFFFD || length != rep.size()) {
    replacement.fail("expected a single character");
  }
  PrependScheme scheme = PrependScheme::kAlways;
  if (j.has("prepend_scheme")) {
    const JsonAt s = j["prepend_scheme"];
    const std::string name = s.as_string();
    if (name == "first") {
      scheme = PrependScheme::kFirst;
    } else if (name == "always") {
      scheme = PrependScheme::kAlways;
    } else if (name == "never") {
      scheme = PrependScheme::kNever;
    } else {
      s.fail("expected \"first\", \"always\" or \"never\"");
    }
  } else if (j.has("add_prefix_space")) {
    scheme = j["add_prefix_space"].as_bool() ? PrependScheme::kAlways : PrependScheme::kNever;
  }
  return std::make_unique<MetaspacePreTokenizer>(std::move(rep), scheme, j.bool_or("split", true));
}

}  // namespace

void split_piece(const Piece& piece, const std::vector<Match>& matches, SplitBehavior behavior,
                 bool invert, std::vector<Piece>& out) {
  // (start, end, is_match) covering the whole text, as HF's Pattern::find_matches.
  struct Span {
    std::size_t start, end;
    bool is_match;
  };
  const std::string& text = piece.text;
  if (text.empty()) return;
  std::vector<Span> spans;
  spans.reserve(matches.size() * 2 + 1);
  std::size_t prev = 0;
  for (const Match& m : matches) {
    if (prev != m.start) spans.push_back({prev, m.start, invert});
    spans.push_back({m.start, m.end, !invert});
    prev = m.end;
  }
  if (prev != text.size()) spans.push_back({prev, text.size(), invert});

  // (start, end, remove) after applying the behavior.
  std::vector<Span> kept;
  kept.reserve(spans.size());
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::kIsolated:
      for (const Span& s : spans) kept.push_back({s.start, s.end, false});
      break;
    case SplitBehavior::kRemoved:
      kept = spans;
      break;
    case SplitBehavior::kContiguous:
      for (const Span& s : spans) {
        if (s.is_match == previous_match && !kept.empty()) {
          kept.back().end = s.end;
        } else {
          kept.push_back({s.start, s.end, false});
        }
        previous_match = s.is_match;
      }
      break;
    case SplitBehavior::kMergedWithPrevious:
      for (const Span& s : spans) {
        if (s.is_match && !previous_match && !kept.empty()) {
          kept.back().end = s.end;
        } else {
          kept.push_back({s.start, s.end, false});
        }
        previous_match = s.is_match;
      }
      break;
    case SplitBehavior::kMergedWithNext:
      for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
        if (it->is_match && !previous_match && !kept.empty()) {
          kept.back().start = it->start;
        } else {
          kept.push_back({it->start, it->end, false});
        }
        previous_match = it->is_match;
      }
      std::reverse(kept.begin(), kept.end());
      break;
  }
  for (const Span& s : kept) {
    if (s.is_match || s.start == s.end) continue;  // is_match here means "remove"
    out.push_back({text.substr(s.start, s.end - s.start), piece.at_start && s.start == 0});
  }
}

std::unique_ptr<PreTokenizer> parse_pre_tokenizer(const JsonAt& j) {
  if (j.value.is_null()) return nullptr;
  const std::string type = j.type();
  if (type == "Split") {
    return std::make_unique<SplitPreTokenizer>(
        parse_pattern(j["pattern"]), parse_behavior(j["behavior"]), j.bool_or("invert", false));
  }
  if (type == "ByteLevel") {
    return std::make_unique<ByteLevelPreTokenizer>(j.bool_or("add_prefix_space", true),
                                                   j.bool_or("use_regex", true));
  }
  if (type == "Metaspace") return parse_metaspace(j);
  if (type == "Digits") {
    const bool individual = j.bool_or("individual_digits", false);
    return std::make_unique<CharSplitPreTokenizer>(
        is_numeric, individual ? SplitBehavior::kIsolated : SplitBehavior::kContiguous);
  }
  if (type == "Whitespace") {
    return std::make_unique<SplitPreTokenizer>(
        std::make_unique<Regex>(kWhitespaceRegex, false, "Whitespace"), SplitBehavior::kRemoved,
        true);
  }
  if (type == "WhitespaceSplit") {
    return std::make_unique<CharSplitPreTokenizer>(is_whitespace, SplitBehavior::kRemoved);
  }
  if (type == "Punctuation") {
    const SplitBehavior behavior =
        j.has("behavior") ? parse_behavior(j["behavior"]) : SplitBehavior::kIsolated;
    return std::make_unique<CharSplitPreTokenizer>(is_punctuation, behavior);
  }
  if (type == "CharDelimiterSplit") {
    const JsonAt d = j["delimiter"];
    const std::string delimiter = d.as_string();
    std::size_t length = 0;
    if (delimiter.empty()) d.fail("expected a single character");
    const char32_t cp = detail::code_point_at(delimiter, 0, &length);
    if (length != delimiter.size()) d.fail("expected a single character");
    return std::make_unique<CharSplitPreTokenizer>([cp](char32_t c) { return c == cp; },
                                                   SplitBehavior::kRemoved);
  }
  if (type == "BertPreTokenizer") {
    std::vector<std::unique_ptr<PreTokenizer>> steps;
    steps.push_back(
        std::make_unique<CharSplitPreTokenizer>(is_whitespace, SplitBehavior::kRemoved));
    steps.push_back(
        std::make_unique<CharSplitPreTokenizer>(is_punctuation, SplitBehavior::kIsolated));
    return std::make_unique<SequencePreTokenizer>(std::move(steps));
  }
  if (type == "Sequence") {
    const JsonAt list = j["pretokenizers"];
    list.require_array();
    std::vector<std::unique_ptr<PreTokenizer>> steps;
    for (std::size_t i = 0; i < list.value.size(); ++i) {
      if (auto step = parse_pre_tokenizer(list.at(i))) steps.push_back(std::move(step));
    }
    return std::make_unique<SequencePreTokenizer>(std::move(steps));
  }
  j["type"].fail("unsupported pre_tokenizer type");
}

}  // namespace pplug::hf
