// BOS/EOS/PAD ids from the JSON files beside tokenizer.json: tokenizer_config.json names the
// tokens (a string or {"content": ...}); config.json and generation_config.json give ids
// (an integer or a list, whose first element counts); the post-processor template comes last.
#include <filesystem>

#include "tokenizer/hf/hf_tokenizer_impl.h"
#include "tokenizer/hf/json_util.h"
#include "util/file_io.h"

namespace pplug::hf {
namespace {

namespace fs = std::filesystem;

struct SideFile {
  std::string path;
  Json json;  // null when the file is absent
};

SideFile read_side_file(const std::string& folder, const char* name) {
  SideFile f{(fs::path(folder) / name).string(), Json()};
  if (folder.empty() || !fs::is_regular_file(f.path)) return f;
  f.json = parse_json(detail::read_file(f.path), f.path);
  if (!f.json.is_object()) JsonAt{f.json, f.path, ""}.fail("expected an object");
  return f;
}

// The id of tokenizer_config.json's `key` token, -1 when absent or null.
int token_field(const HfTokenizer::Impl& impl, const SideFile& config, const char* key) {
  const JsonAt root{config.json, config.path, ""};
  if (!root.has(key)) return -1;
  const JsonAt entry = root[key];
  const JsonAt field = entry.value.is_object() ? entry["content"] : entry;
  const std::string token = field.as_string();
  const int id = impl.lookup(token);
  if (id < 0) field.fail("token is not in the vocabulary");
  return id;
}

// The id in config.json / generation_config.json's `key`, -1 when absent or null.
int id_field(const HfTokenizer::Impl& impl, const SideFile& config, const char* key) {
  const JsonAt root{config.json, config.path, ""};
  if (!root.has(key)) return -1;
  const JsonAt entry = root[key];
  if (entry.value.is_array() && entry.value.empty()) return -1;
  const JsonAt field = entry.value.is_array() ? entry.at(0) : entry;
  const long long id = field.as_int();
  if (id < 0 || id >= static_cast<long long>(impl.pieces.size())) {
    field.fail("id out of range [0, " + std::to_string(impl.pieces.size()) + ")");
  }
  return static_cast<int>(id);
}

}  // namespace

void resolve_special_ids(HfTokenizer::Impl& impl, const std::string& folder) {
  const SideFile tokenizer_config = read_side_file(folder, "tokenizer_config.json");
  const SideFile config = read_side_file(folder, "config.json");
  const SideFile generation = read_side_file(folder, "generation_config.json");
  const auto pick = [&](const char* token_key, const char* id_key) {
    int id = token_field(impl, tokenizer_config, token_key);
    if (id < 0) id = id_field(impl, config, id_key);
    if (id < 0) id = id_field(impl, generation, id_key);
    return id;
  };
  impl.bos = pick("bos_token", "bos_token_id");
  impl.eos = pick("eos_token", "eos_token_id");
  impl.pad = pick("pad_token", "pad_token_id");
  if (impl.bos < 0 && impl.template_prefix.size() == 1) impl.bos = impl.template_prefix[0];
  if (impl.eos < 0 && impl.template_suffix.size() == 1) impl.eos = impl.template_suffix[0];
  const JsonAt root{tokenizer_config.json, tokenizer_config.path, ""};
  if (root.has("add_bos_token")) impl.add_bos_default = root["add_bos_token"].as_bool();
}

}  // namespace pplug::hf
