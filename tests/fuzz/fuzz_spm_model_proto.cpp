// SentencePiece .model files (a serialized ModelProto) through pplug's hand-written protobuf
// reader (parse_spm_model). An accepted model is written back (serialize_spm_model) and must
// parse to the same pieces.
#include <cstdio>
#include <cstdlib>

#include "fuzz_support.h"
#include "tokenizer/spm_model_proto.h"

using namespace pplug;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::quiet_logs();
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  fuzz::expect_documented([&] {
    const detail::SpmModelSpec spec = detail::parse_spm_model(bytes, "fuzz.model");
    const detail::SpmModelSpec again =
        detail::parse_spm_model(detail::serialize_spm_model(spec), "again.model");
    bool same = again.pieces.size() == spec.pieces.size();
    for (size_t i = 0; same && i < spec.pieces.size(); ++i) {
      same = again.pieces[i].piece == spec.pieces[i].piece &&
             again.pieces[i].type == spec.pieces[i].type;
    }
    if (!same) {
      std::fprintf(stderr, "pplug fuzz: SentencePiece round trip differs\n");
      std::abort();
    }
  });
  return 0;
}
