// Writes the binary seeds of the fuzz corpus with pplug's own writers: small GGUF files (a
// SentencePiece vocabulary, a byte-level BPE vocabulary, a tensor table), a SentencePiece
// .model, safetensors files as serialize_safetensors lays them out (plain, and user embeddings
// in their three storages) and plug-in manifests as PersonaPlug::save writes them. Usage:
// fuzz_make_seeds CORPUS_DIR (the folder holding one folder per target).
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "format/gguf_writer.h"
#include "format/plugin_manifest.h"
#include "format/user_embedding_record.h"
#include "serve/history_json.h"
#include "serve/user_record_frame.h"
#include "tokenizer/gguf_spm_vocab.h"
#include "tokenizer/spm_model_proto.h"

using namespace pplug::detail;
using pplug::PluginConfig;

namespace {

SpmModelSpec tiny_spm(int model_type) {
  SpmModelSpec spec;
  spec.model_type = model_type;
  spec.byte_fallback = model_type == 2;
  spec.pieces = {{"<unk>", 0.0f, SpmPieceType::kUnknown},
                 {"<s>", 0.0f, SpmPieceType::kControl},
                 {"</s>", 0.0f, SpmPieceType::kControl},
                 {"<0x41>", 0.0f, SpmPieceType::kByte},
                 {"\xe2\x96\x81", -1.0f, SpmPieceType::kNormal},
                 {"\xe2\x96\x81h", -2.0f, SpmPieceType::kNormal},
                 {"e", -3.0f, SpmPieceType::kNormal},
                 {"l", -3.5f, SpmPieceType::kNormal},
                 {"lo", -4.0f, SpmPieceType::kNormal},
                 {"<user>", 0.0f, SpmPieceType::kUserDefined}};
  return spec;
}

void add_llama_header(GgufWriter& w) {
  w.add_string("general.architecture", "llama");
  w.add_uint32("llama.context_length", 64);
  w.add_uint32("llama.embedding_length", 4);
  w.add_float32("llama.rope.freq_base", 10000.0f);
  w.add_bool("general.flag", true);
}

// One tensor of a safetensors seed: name, dtype, shape (its bytes are zeros).
struct SeedTensor {
  std::string name, dtype;
  std::vector<int64_t> shape;
};

// Safetensors bytes laid out as serialize_safetensors writes them (header padded with spaces
// to 8 bytes, data in order); the data is zeros, or `fill` repeated.
std::string safetensors_bytes(const std::vector<SeedTensor>& tensors,
                              const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const SeedTensor& t : tensors) {
    uint64_t bytes = safetensors_element_size(t.dtype);
    for (const int64_t d : t.shape) bytes *= static_cast<uint64_t>(d);
    header[t.name] = {
        {"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string head = header.dump();
  head.append((8 - (8 + head.size()) % 8) % 8, ' ');
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((head.size() >> (8 * i)) & 0xff));
  out += head;
  out.append(offset, '\0');
  return out;
}

void write(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::map<std::string, std::string> user_meta(int version, const std::string& ids) {
  return {{"format", kUserEmbeddingFormat},
          {"format_version", std::to_string(version)},
          {"item_ids", ids},
          {"encoder_fingerprint", "enc-0123456789abcdef"},
          {"plugin_fingerprint", "plug-0123456789abcdef"}};
}

// A manifest as PersonaPlug::save writes it (format 4), for a 2-layer model of width 8.
nlohmann::json manifest(int version) {
  PluginConfig c;
  c.task = "LaMP_2";
  c.encoder_dim = 16;
  c.llm_dim = 8;
  nlohmann::json config = plugin_config_to_json(c);
  if (version < 4) config.erase("scores");
  if (version < 3) {
    config.erase("query_source");
    config.erase("input_encoder");
  }
  nlohmann::json m = {
      {"format", kPluginFormat},
      {"format_version", version},
      {"config", config},
      {"soft_token_scale", 1.25},
      {"plugin_fingerprint", "3f2a9c0d11e4b7a8"},
      {"llm",
       {{"fingerprint", "a1b2c3d4e5f60718"},
        {"hidden_size", 8},
        {"num_hidden_layers", 2},
        {"vocab_size", 512}}},
      {"encoder", {{"kind", "bert"}, {"fingerprint", "0f1e2d3c4b5a6978"}, {"dim", 16}}}};
  if (version >= 3) m["encoder"]["spec"] = "bge-small";
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  {
    GgufWriter w;
    add_llama_header(w);
    add_spm_vocab(tiny_spm(2), w);
    w.write(dir + "/gguf_metadata/spm_llama.gguf");
  }
  {
    GgufWriter w;
    add_spm_vocab(tiny_spm(1), w);
    w.write(dir + "/gguf_metadata/spm_t5.gguf");
  }
  {
    GgufWriter w;
    w.add_string("tokenizer.ggml.model", "gpt2");
    w.add_string("tokenizer.ggml.pre", "llama-bpe");
    w.add_strings("tokenizer.ggml.tokens",
                  {"H", "e", "l", "o", "He", "ll", "Hell", "Hello", "\xc4\xa0", "<|end|>"});
    w.add_int32s("tokenizer.ggml.token_type", {1, 1, 1, 1, 1, 1, 1, 1, 1, 3});
    w.add_strings("tokenizer.ggml.merges", {"H e", "l l", "He ll", "Hell o"});
    w.add_uint32("tokenizer.ggml.bos_token_id", 9);
    w.add_uint32("tokenizer.ggml.eos_token_id", 9);
    w.write(dir + "/gguf_metadata/gpt2.gguf");
  }
  {
    GgufWriter w;
    w.add_string("tokenizer.ggml.model", "bert");
    w.add_strings("tokenizer.ggml.tokens", {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "\xe2\x96\x81hello",
                                            "\xe2\x96\x81world", "s", "\xe2\x96\x81,"});
    w.add_int32s("tokenizer.ggml.token_type", {3, 3, 3, 3, 1, 1, 1, 1});
    w.add_uint32("tokenizer.ggml.unknown_token_id", 1);
    w.add_uint32("tokenizer.ggml.cls_token_id", 2);
    w.add_uint32("tokenizer.ggml.seperator_token_id", 3);
    w.add_uint32("tokenizer.ggml.padding_token_id", 0);
    w.write(dir + "/gguf_metadata/bert.gguf");
  }
  {
    GgufWriter w;
    add_llama_header(w);
    w.add_uint8s("general.bytes", "\x01\x02\x03");
    w.add_float32s("general.floats", {1.0f, -2.5f});
    w.add_tensor("token_embd.weight", {2, 4}, GgmlType::kF32, 32,
                 [] { return std::string(32, '\0'); });
    w.add_tensor("blk.0.attn_q.weight", {4, 32}, GgmlType::kQ8_0, 4 * 34,
                 [] { return std::string(4 * 34, '\0'); });
    w.add_tensor("output_norm.weight", {4}, GgmlType::kF16, 8, [] { return std::string(8, '\0'); });
    w.write(dir + "/gguf_metadata/tensors.gguf");
  }
  for (int type : {1, 2}) {
    const std::string path =
        dir + "/spm_model_proto/tiny_" + (type == 1 ? "unigram" : "bpe") + ".model";
    std::ofstream(path, std::ios::binary) << serialize_spm_model(tiny_spm(type));
  }
  write(dir + "/safetensors_header/two_tensors.safetensors",
        safetensors_bytes({{"embed.weight", "F32", {4, 2}}, {"norm.weight", "BF16", {2}}},
                          {{"format", "pt"}}));
  write(dir + "/safetensors_header/dtypes.safetensors", safetensors_bytes({{"a", "F16", {2, 3}},
                                                                           {"b", "I64", {1}},
                                                                           {"c", "U8", {0, 5}},
                                                                           {"d", "BOOL", {}},
                                                                           {"e", "F64", {1, 1, 2}}},
                                                                          {}));
  write(dir + "/user_embedding/full_v1.bin",
        safetensors_bytes({{"item_vectors", "F32", {2, 4}}, {"item_projections", "F32", {2, 3}}},
                          user_meta(kUserEmbeddingVersion, R"(["h1","h2"])")));
  write(dir + "/user_embedding/int8_keys_v2.bin",
        safetensors_bytes({{"item_vectors", "I8", {3, 4}},
                           {"item_vectors_scale", "F32", {3}},
                           {"item_keys", "I8", {3, 4}},
                           {"item_keys_scale", "F32", {3}}},
                          user_meta(kUserEmbeddingCompactVersion, R"(["a","","c"])")));
  write(dir + "/user_embedding/bf16_v2.bin",
        safetensors_bytes({{"item_vectors", "BF16", {1, 4}}},
                          user_meta(kUserEmbeddingCompactVersion, R"(["only"])")));
  write(dir + "/user_embedding/empty.bin",
        safetensors_bytes({}, user_meta(kUserEmbeddingVersion, "[]")));
  {
    // user_record: first byte 0 = a history body, 1 = a record file of user "u1".
    const std::string history = R"([{"id": "h1", "text": "a red ball", "score": 4},)"
                                R"( {"text": "no id", "date": "2020"}])";
    write(dir + "/user_record/history_body.json", std::string(1, '\0') + history);
    const auto items =
        pplug::serve::history_items_from_json(nlohmann::json::parse(history), "seed");
    write(dir + "/user_record/two_items.bin",
          "\x01" + pplug::serve::frame_user_record(
                       "u1", items,
                       safetensors_bytes(
                           {{"item_vectors", "F32", {2, 4}}, {"item_projections", "F32", {2, 3}}},
                           user_meta(kUserEmbeddingVersion, R"(["h1",""])"))));
    write(dir + "/user_record/empty.bin",
          "\x01" + pplug::serve::frame_user_record(
                       "u1", {}, safetensors_bytes({}, user_meta(kUserEmbeddingVersion, "[]"))));
  }
  for (int version : {2, 3, 4}) {
    write(dir + "/plugin_manifest/manifest_v" + std::to_string(version) + ".json",
          manifest(version).dump(2) + "\n");
  }
  return 0;
}
