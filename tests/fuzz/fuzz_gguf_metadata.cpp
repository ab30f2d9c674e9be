// GGUF files: the header / metadata / tensor-table reader (read_gguf_metadata, from a file as
// pplug reads it), then what pplug builds from the metadata: a SentencePiece vocabulary
// (tokenizer.ggml.model "llama" / "t5": spm_model_from_gguf, then the ModelProto written and
// parsed back) or one read through the tokenizer.json code ("gpt2" byte-level BPE, "bert"
// WordPiece: HfTokenizer::load, then an encode/decode).
#include <cstdio>
#include <cstdlib>

#include "format/gguf_metadata.h"
#include "fuzz_support.h"
#include "tokenizer/gguf_spm_vocab.h"
#include "tokenizer/hf/hf_tokenizer.h"
#include "tokenizer/spm_model_proto.h"

using namespace pplug;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::quiet_logs();
  fuzz::TempFile file("model.gguf", data, size);
  fuzz::expect_documented([&] {
    const detail::GgufMetadata meta = detail::read_gguf_metadata(file.path());
    for (const detail::GgufTensorInfo& t : meta.tensors) (void)detail::ggml_type_name(t.type);
    if (detail::is_gguf_spm_vocab(meta)) {
      const detail::SpmModelSpec spec = detail::spm_model_from_gguf(meta);
      const detail::SpmModelSpec again =
          detail::parse_spm_model(detail::serialize_spm_model(spec), "again.model");
      if (again.pieces.size() != spec.pieces.size()) {
        std::fprintf(stderr, "pplug fuzz: SentencePiece round trip lost pieces\n");
        std::abort();
      }
      return;
    }
    const detail::GgufValue* model = meta.find("tokenizer.ggml.model");
    if (model != nullptr && (model->text == "gpt2" || model->text == "bert")) {
      const hf::HfTokenizer tok = hf::HfTokenizer::load(file.path());
      const std::vector<int> ids = tok.encode("Hello world, 123 ünïcode 日本 \n\t!", true, true);
      (void)tok.decode(ids, false);
    }
  });
  return 0;
}
