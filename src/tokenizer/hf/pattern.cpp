#include "tokenizer/hf/pattern.h"

namespace pplug::hf {

std::unique_ptr<Regex> parse_pattern(const JsonAt& j) {
  j.require_object();
  if (j.has("String")) {
    return std::make_unique<Regex>(j["String"].as_string(), true, j.file + ": " + j.path);
  }
  if (j.has("Regex")) {
    const JsonAt r = j["Regex"];
    return std::make_unique<Regex>(r.as_string(), false, j.file + ": " + r.path);
  }
  j.fail("expected {\"String\": ...} or {\"Regex\": ...}");
}

std::string replace_all(const Regex& pattern, const std::string& text, const std::string& content) {
  std::string out;
  std::size_t last = 0;
  for (const Match& m : pattern.find_all(text)) {
    out.append(text, last, m.start - last);
    out += content;
    last = m.end;
  }
  out.append(text, last, std::string::npos);
  return out;
}

}  // namespace pplug::hf
