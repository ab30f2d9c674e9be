// A tokenizer folder's side files, as HfTokenizer::load reads them beside a fixed tokenizer.json:
// tokenizer_config.json (bos/eos/pad token names, add_bos_token), config.json and
// generation_config.json (the ids, an integer or a list). Accepted: the special ids lie in the
// vocabulary, and encoding a text gives ids in it.
// Input: up to three files separated by 0x1e, in that order; an empty part is an absent file.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "tokenizer/hf/hf_tokenizer.h"

using namespace pplug;

namespace {

// A SentencePiece-style BPE with byte fallback and a BOS template (11 pieces).
const char kTokenizerJson[] = R"({"version": "1.0", "added_tokens": [
  {"id": 0, "content": "<unk>", "special": true}, {"id": 1, "content": "<s>", "special": true},
  {"id": 2, "content": "</s>", "special": true}],
 "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "\u2581"},
   {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
 "pre_tokenizer": null,
 "post_processor": {"type": "TemplateProcessing",
   "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
   "pair": [], "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
 "decoder": null,
 "model": {"type": "BPE", "unk_token": "<unk>", "byte_fallback": true, "fuse_unk": true,
   "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2, "<0x0A>": 3, "<0xC3>": 4, "<0xA9>": 5,
             "\u2581": 6, "H": 7, "i": 8, "\u2581H": 9, "\u2581Hi": 10},
   "merges": ["\u2581 H", "\u2581H i"]}})";
constexpr int kVocab = 11;

[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "pplug fuzz: accepted tokenizer folder breaks an invariant: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::quiet_logs();
  static const char* const kNames[] = {"tokenizer_config.json", "config.json",
                                       "generation_config.json"};
  const fuzz::TempFile tokenizer("tokenizer.json", reinterpret_cast<const uint8_t*>(kTokenizerJson),
                                 sizeof(kTokenizerJson) - 1);
  std::vector<std::unique_ptr<fuzz::TempFile>> sides;
  size_t start = 0;
  for (int part = 0; part < 3 && start <= size; ++part) {
    size_t end = start;
    while (end < size && data[end] != 0x1e) ++end;
    if (end > start) {
      sides.push_back(std::make_unique<fuzz::TempFile>(kNames[part], data + start, end - start));
    }
    start = end + 1;
  }
  fuzz::expect_documented([&] {
    const auto tok = hf::HfTokenizer::load(tokenizer.path());
    for (const int id : {tok.bos_id(), tok.eos_id(), tok.pad_id()}) {
      if (id < -1 || id >= kVocab) broken("special id outside the vocabulary");
    }
    for (const int id : tok.encode("Hi H\xC3\xA9", /*add_bos=*/true, /*add_eos=*/true)) {
      if (id < 0 || id >= kVocab) broken("encoded id outside the vocabulary");
    }
  });
  return 0;
}
