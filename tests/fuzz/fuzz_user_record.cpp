// The server's history bodies and its user-store records: `history_items_from_json` (the items
// of POST /v1/users/{id}/history and of `pplug embed --history`) and `parse_user_record_frame`
// (a store file's frame: magic, version, header JSON, embedding bytes, checksum), followed by the
// embedding check UserEmbedding::from_bytes makes. Accepted inputs round-trip: items written
// back and re-read are the same items; a frame rebuilt from what was read parses to the same.
// First byte: 0 = a history body (JSON), 1 = a record file of user "u1".
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "format/user_embedding_record.h"
#include "fuzz_support.h"
#include "serve/history_json.h"
#include "serve/user_record_frame.h"

using namespace pplug;

namespace {

[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "pplug fuzz: accepted history or record breaks an invariant: %s\n", what);
  std::abort();
}

bool same_items(const std::vector<lamp::ProfileItem>& a, const std::vector<lamp::ProfileItem>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].id != b[i].id || a[i].fields.size() != b[i].fields.size()) return false;
    for (size_t f = 0; f < a[i].fields.size(); ++f) {
      const auto &x = a[i].fields[f], &y = b[i].fields[f];
      if (x.name != y.name || x.raw_json != y.raw_json) return false;
      // Raw JSON (numbers, booleans) is re-serialized by nlohmann: compare parsed values.
      if (x.raw_json ? nlohmann::json::parse(x.value) != nlohmann::json::parse(y.value)
                     : x.value != y.value) {
        return false;
      }
    }
  }
  return true;
}

void history_body(const std::string& text) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    return;  // the routes answer 400 "malformed JSON body"
  }
  fuzz::expect_documented([&] {
    const auto items = serve::history_items_from_json(doc, "body");
    const auto again = serve::history_items_from_json(serve::history_items_to_json(items), "again");
    if (!same_items(items, again)) broken("history items round trip");
  });
}

void record_file(const std::string& bytes) {
  fuzz::expect_documented([&] {
    const auto frame = serve::parse_user_record_frame(bytes, "u1", "fuzz");
    if (frame.embedding.data() < bytes.data() ||
        frame.embedding.data() + frame.embedding.size() > bytes.data() + bytes.size()) {
      broken("embedding bytes inside the input");
    }
    const std::string rebuilt = serve::frame_user_record("u1", frame.items, frame.embedding);
    const auto again = serve::parse_user_record_frame(rebuilt, "u1", "rebuilt");
    if (!same_items(frame.items, again.items) || again.embedding != frame.embedding) {
      broken("frame round trip");
    }
    const auto record = detail::parse_user_embedding_record(std::string(frame.embedding), "fuzz");
    (void)record;
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::quiet_logs();
  if (size == 0) return 0;
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    history_body(rest);
  } else {
    record_file(rest);
  }
  return 0;
}
