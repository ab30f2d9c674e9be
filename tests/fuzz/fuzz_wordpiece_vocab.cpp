// WordPiece vocab.txt files (the WordPieceTokenizer constructor, from a file), then an encode
// of a fixed text (lowercasing and accent stripping on or off, by the first byte) and
// encode_for_model with a short budget.
#include "fuzz_support.h"
#include "pplug/wordpiece.h"

using namespace pplug;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::quiet_logs();
  if (size == 0) return 0;
  const bool lowercase = (data[0] & 1) != 0;
  fuzz::TempFile file("vocab.txt", data + 1, size - 1);
  fuzz::expect_documented([&] {
    const WordPieceTokenizer tok(file.path(), lowercase);
    (void)tok.encode("Hello, [CLS] wörld! unaffable 日本語 [SEP] x\u00e9\t[MASK]");
    (void)tok.encode_for_model("The quick brown fox jumps over the lazy dog", 8);
  });
  return 0;
}
