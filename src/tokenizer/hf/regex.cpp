#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/hf/regex.h"

#include <pcre2.h>

#include "pplug/error.h"
#include "text/utf8.h"

namespace pplug::hf {
namespace {

// Bounds on one match attempt: the engine fails cleanly instead of exhausting the stack or heap.
constexpr uint32_t kMatchLimit = 50'000'000;
constexpr uint32_t kDepthLimit = 100'000;
constexpr uint32_t kHeapLimitKiB = 256 * 1024;
constexpr std::size_t kJitStackMax = 4 << 20;

// Per-thread match context with its own JIT stack (a JIT stack must not be shared by threads).
struct ThreadMatchContext {
  pcre2_match_context* context = nullptr;
  pcre2_jit_stack* jit_stack = nullptr;
  ThreadMatchContext() {
    context = pcre2_match_context_create(nullptr);
    pcre2_set_match_limit(context, kMatchLimit);
    pcre2_set_depth_limit(context, kDepthLimit);
    pcre2_set_heap_limit(context, kHeapLimitKiB);
    jit_stack = pcre2_jit_stack_create(32 * 1024, kJitStackMax, nullptr);
    if (jit_stack != nullptr) pcre2_jit_stack_assign(context, nullptr, jit_stack);
  }
  ~ThreadMatchContext() {
    pcre2_jit_stack_free(jit_stack);
    pcre2_match_context_free(context);
  }
  ThreadMatchContext(const ThreadMatchContext&) = delete;
  ThreadMatchContext& operator=(const ThreadMatchContext&) = delete;
};

pcre2_match_context* thread_match_context() {
  thread_local ThreadMatchContext ctx;
  return ctx.context;
}

std::string pcre2_message(int code) {
  PCRE2_UCHAR buffer[256];
  const int n = pcre2_get_error_message(code, buffer, sizeof(buffer));
  return n < 0 ? "PCRE2 error " + std::to_string(code)
               : std::string(reinterpret_cast<char*>(buffer));
}

std::size_t char_length_at(std::string_view text, std::size_t pos) {
  if (pos >= text.size()) return 1;
  const std::size_t n = detail::utf8_sequence_length(text.data() + pos, text.data() + text.size());
  return n == 0 ? 1 : n;
}

}  // namespace

struct Regex::Impl {
  pcre2_code* code = nullptr;
  bool jit = false;
  ~Impl() { pcre2_code_free(code); }
};

std::string translate_oniguruma(const std::string& pattern) {
  std::string out;
  out.reserve(pattern.size());
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\' && i + 1 < pattern.size()) {
      const char next = pattern[i + 1];
      if (next == 'h') {
        out += "[0-9a-fA-F]";
      } else if (next == 'H') {
        out += "[^0-9a-fA-F]";
      } else {
        out += pattern[i];
        out += next;
      }
      ++i;
    } else {
      out += pattern[i];
    }
  }
  return out;
}

Regex::Regex(const std::string& pattern, bool literal, const std::string& where)
    : impl_(std::make_unique<Impl>()), pattern_(pattern) {
  const std::string source = literal ? pattern : translate_oniguruma(pattern);
  // Oniguruma's ^ and $ are line anchors (Ruby syntax): PCRE2's multiline mode.
  uint32_t options = PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF | PCRE2_MULTILINE;
  if (literal) options = PCRE2_UTF | PCRE2_LITERAL | PCRE2_MATCH_INVALID_UTF;
  int error = 0;
  PCRE2_SIZE error_offset = 0;
  impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(source.data()), source.size(), options,
                              &error, &error_offset, nullptr);
  if (impl_->code == nullptr) {
    throw FormatError(where + ": cannot compile regex \"" + pattern +
                      "\": " + pcre2_message(error) + " at offset " + std::to_string(error_offset));
  }
  impl_->jit = pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE) == 0;
}

Regex::~Regex() = default;
Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;

std::vector<Match> Regex::find_all(std::string_view text) const {
  std::vector<Match> matches;
  if (text.empty()) return matches;
  pcre2_match_data* data = pcre2_match_data_create_from_pattern(impl_->code, nullptr);
  if (data == nullptr) throw Error("regex: out of memory");
  pcre2_match_context* context = thread_match_context();
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  std::size_t search_from = 0;
  bool have_last = false;
  std::size_t last_match_end = 0;
  while (search_from <= text.size()) {
    int rc = pcre2_match(impl_->code, subject, text.size(), search_from, 0, data, context);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
      // The JIT stack is too small for this subject: the interpreter keeps its backtracking
      // state on the (limited) heap instead.
      rc = pcre2_match(impl_->code, subject, text.size(), search_from, PCRE2_NO_JIT, data, context);
    }
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      pcre2_match_data_free(data);
      throw Error("regex \"" + pattern_ + "\" failed on a " + std::to_string(text.size()) +
                  "-byte input at byte " + std::to_string(search_from) + ": " + pcre2_message(rc));
    }
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data);
    const std::size_t start = ovector[0];
    const std::size_t end = ovector[1];
    if (start == end && have_last && last_match_end == end) {
      search_from += char_length_at(text, search_from);
      continue;
    }
    matches.push_back({start, end});
    have_last = true;
    last_match_end = end;
    search_from = end;
  }
  pcre2_match_data_free(data);
  return matches;
}

}  // namespace pplug::hf
