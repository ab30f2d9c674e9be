#include "models/bert/bert_folder.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <system_error>

#include "pplug/error.h"
#include "pplug/safetensors.h"
#include "util/file_io.h"

namespace pplug::bert {

namespace fs = std::filesystem;

bool read_do_lower_case(const std::string& dir) {
  const std::string path = (fs::path(dir) / "tokenizer_config.json").string();
  if (!fs::exists(path)) return true;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(detail::read_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(path + ": not valid JSON: " + e.what());
  }
  if (!j.is_object() || !j.contains("do_lower_case") || j["do_lower_case"].is_null()) return true;
  if (!j["do_lower_case"].is_boolean()) {
    throw FormatError(path + ": field 'do_lower_case' must be a boolean, got " +
                      j["do_lower_case"].dump());
  }
  return j["do_lower_case"].get<bool>();
}

void write_bert_folder(const std::string& dir, BertModelImpl& model, const std::string& vocab_path,
                       bool lowercase) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(dir + ": cannot create folder: " + ec.message());
  const fs::path root(dir);
  // Copy the vocabulary first: `vocab_path` may be the vocab.txt being replaced.
  detail::write_file_atomic((root / "vocab.txt").string(), detail::read_file(vocab_path));
  save_bert_config(model.config(), (root / "config.json").string());
  save_safetensors((root / "model.safetensors").string(), bert_named_weights(model),
                   {{"format", "pt"}});
  const nlohmann::json tokenizer_config = {{"tokenizer_class", "BertTokenizer"},
                                           {"do_lower_case", lowercase}};
  detail::write_file_atomic((root / "tokenizer_config.json").string(),
                            tokenizer_config.dump(2) + "\n");
}

}  // namespace pplug::bert
