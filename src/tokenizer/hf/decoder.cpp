#include "tokenizer/hf/decoder.h"

#include "text/utf8.h"
#include "tokenizer/hf/byte_level.h"
#include "tokenizer/hf/pattern.h"

namespace pplug::hf {
namespace {

// Bytes -> text, every invalid sequence becoming U+FFFD (Rust's from_utf8_lossy).
std::string lossy_utf8(const std::string& bytes) { return detail::sanitize_utf8(bytes); }

class ByteLevelDecoder : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string bytes;
    for (const std::string& token : tokens) {
      std::string mapped;
      bool ok = true;
      for (std::size_t pos = 0; pos < token.size() && ok;) {
        std::size_t length = 0;
        const int b = char_to_byte(detail::code_point_at(token, pos, &length));
        ok = b >= 0;
        mapped += static_cast<char>(b);
        pos += length;
      }
      bytes += ok ? mapped : token;  // a token outside the map contributes its own bytes
    }
    tokens.assign(1, lossy_utf8(bytes));
  }
};

class MetaspaceDecoder : public Decoder {
 public:
  MetaspaceDecoder(std::string replacement, bool strip_first)
      : replacement_(std::move(replacement)), strip_first_(strip_first) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      std::string out;
      const std::string& token = tokens[i];
      for (std::size_t pos = 0; pos < token.size();) {
        if (token.compare(pos, replacement_.size(), replacement_) == 0) {
          if (i != 0 || !strip_first_) out += ' ';
          pos += replacement_.size();
        } else {
          out += token[pos++];
        }
      }
      tokens[i] = std::move(out);
    }
  }

 private:
  std::string replacement_;
  bool strip_first_;
};

// Runs of <0xNN> tokens become the text of their bytes (one U+FFFD per byte when invalid).
class ByteFallbackDecoder : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::vector<std::string> out;
    std::string pending;
    std::size_t pending_count = 0;
    const auto flush = [&] {
      if (pending_count == 0) return;
      if (detail::is_valid_utf8(pending)) {
        out.push_back(pending);
      } else {
        for (std::size_t i = 0; i < pending_count; ++i) out.emplace_back("\xEF\xBF\xBD");
      }
      pending.clear();
      pending_count = 0;
    };
    for (std::string& token : tokens) {
      const int b = byte_of(token);
      if (b >= 0) {
        pending += static_cast<char>(b);
        ++pending_count;
      } else {
        flush();
        out.push_back(std::move(token));
      }
    }
    flush();
    tokens = std::move(out);
  }

 private:
  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  }
  static int byte_of(const std::string& token) {
    if (token.size() != 6 || token.compare(0, 3, "<0x") != 0 || token[5] != '>') return -1;
    const int hi = hex(token[3]);
    const int lo = hex(token[4]);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
  }
};

class FuseDecoder : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string all;
    for (const std::string& token : tokens) all += token;
    tokens.assign(1, std::move(all));
  }
};

// Removes up to `start` leading and `stop` trailing `content` characters of every token.
class StripDecoder : public Decoder {
 public:
  StripDecoder(std::string content, std::size_t start, std::size_t stop)
      : content_(std::move(content)), start_(start), stop_(stop) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (std::string& token : tokens) {
      std::size_t begin = 0;
      for (std::size_t i = 0; i < start_ && token.compare(begin, content_.size(), content_) == 0 &&
                              begin < token.size();
           ++i) {
        begin += content_.size();
      }
      std::size_t end = token.size();
      for (std::size_t i = 0; i < stop_ && end >= begin + content_.size() &&
                              token.compare(end - content_.size(), content_.size(), content_) == 0;
           ++i) {
        end -= content_.size();
      }
      token = token.substr(begin, end - begin);
    }
  }

 private:
  std::string content_;
  std::size_t start_;
  std::size_t stop_;
};

class ReplaceDecoder : public Decoder {
 public:
  ReplaceDecoder(std::unique_ptr<Regex> pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (std::string& token : tokens) token = replace_all(*pattern_, token, content_);
  }

 private:
  std::unique_ptr<Regex> pattern_;
  std::string content_;
};

// BERT's "##" joining, with HF's clean-up of spaces before punctuation and contractions.
class WordPieceDecoder : public Decoder {
 public:
  WordPieceDecoder(std::string prefix, bool cleanup)
      : prefix_(std::move(prefix)), cleanup_(cleanup) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      std::string& token = tokens[i];
      if (i != 0) {
        if (token.compare(0, prefix_.size(), prefix_) == 0) {
          token.erase(0, prefix_.size());
        } else {
          token.insert(0, " ");
        }
      }
      if (cleanup_) token = clean_up(token);
    }
  }

 private:
  static std::string clean_up(std::string text) {
    static const char* const kRules[][2] = {{" .", "."},     {" ?", "?"},           {" !", "!"},
                                            {" ,", ","},     {" ' ", "'"},          {" n't", "n't"},
                                            {" 'm", "'m"},   {" do not", " don't"}, {" 's", "'s"},
                                            {" 've", "'ve"}, {" 're", "'re"}};
    for (const auto& rule : kRules) {
      const std::string from = rule[0];
      const std::string to = rule[1];
      std::string out;
      std::size_t last = 0;
      for (std::size_t pos = text.find(from); pos != std::string::npos;
           pos = text.find(from, last)) {
        out.append(text, last, pos - last);
        out += to;
        last = pos + from.size();
      }
      out.append(text, last, std::string::npos);
      text = std::move(out);
    }
    return text;
  }
  std::string prefix_;
  bool cleanup_;
};

class SequenceDecoder : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> steps)
      : steps_(std::move(steps)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (const auto& step : steps_) step->decode_chain(tokens);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> steps_;
};

std::size_t non_negative(const JsonAt& j) {
  const long long v = j.as_int();
  if (v < 0) j.fail("expected a non-negative integer");
  return static_cast<std::size_t>(v);
}

}  // namespace

std::unique_ptr<Decoder> parse_decoder(const JsonAt& j) {
  if (j.value.is_null()) return nullptr;
  const std::string type = j.type();
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "Metaspace") {
    const std::string replacement = j.string_or("replacement", "\xE2\x96\x81");
    if (replacement.empty()) j["replacement"].fail("expected a single character");
    bool strip_first = true;
    if (j.has("prepend_scheme")) {
      strip_first = j["prepend_scheme"].as_string() != "never";
    } else if (j.has("add_prefix_space")) {
      strip_first = j["add_prefix_space"].as_bool();
    }
    return std::make_unique<MetaspaceDecoder>(replacement, strip_first);
  }
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Strip") {
    const std::string content = j["content"].as_string();
    if (content.empty()) j["content"].fail("expected a single character");
    return std::make_unique<StripDecoder>(content, non_negative(j["start"]),
                                          non_negative(j["stop"]));
  }
  if (type == "Replace") {
    return std::make_unique<ReplaceDecoder>(parse_pattern(j["pattern"]), j["content"].as_string());
  }
  if (type == "WordPiece") {
    return std::make_unique<WordPieceDecoder>(j.string_or("prefix", "##"),
                                              j.bool_or("cleanup", true));
  }
  if (type == "Sequence") {
    const JsonAt list = j["decoders"];
    list.require_array();
    std::vector<std::unique_ptr<Decoder>> steps;
    for (std::size_t i = 0; i < list.value.size(); ++i) {
      if (auto step = parse_decoder(list.at(i))) steps.push_back(std::move(step));
    }
    return std::make_unique<SequenceDecoder>(std::move(steps));
  }
  j["type"].fail("unsupported decoder type");
}

}  // namespace pplug::hf
