// Hugging Face tokenizer.json text (HfTokenizer::from_json: the JSON, then the normalizer,
// pre-tokenizer, model, decoder and added-token sections it builds), then an encode of a fixed
// text mixing scripts, digits, spaces and special-token look-alikes, and a decode of the ids.
#include "fuzz_support.h"
#include "tokenizer/hf/hf_tokenizer.h"

using namespace pplug;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::quiet_logs();
  const std::string json(reinterpret_cast<const char*>(data), size);
  fuzz::expect_documented([&] {
    const hf::HfTokenizer tok = hf::HfTokenizer::from_json(json, "fuzz.json");
    const std::vector<int> ids =
        tok.encode("Hello  world, 1234 ünïcode 日本語 <s></s>[UNK]\n\t ' don't!", true, true);
    (void)tok.decode(ids, false);
    (void)tok.decode(ids, true);
    for (int id = 0; id < tok.vocab_size() && id < 64; ++id) (void)tok.id_to_piece(id);
  });
  return 0;
}
