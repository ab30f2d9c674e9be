#include "pplug/chat_template_file.h"

#include <nlohmann/json.hpp>

#include <filesystem>

#include "format/gguf_metadata.h"
#include "pplug/error.h"
#include "util/file_io.h"

namespace pplug {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// tokenizer_config.json's token fields: a string, {"content": ...} (AddedToken), or null.
std::string token_string(const json& config, const char* key) {
  const auto it = config.find(key);
  if (it == config.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
    return (*it)["content"].get<std::string>();
  }
  return {};
}

void read_tokenizer_config(const std::string& file, bool want_template, ChatTemplateSource* out) {
  json config;
  try {
    config = json::parse(detail::read_file(file));
  } catch (const json::exception& e) {
    throw FormatError(file + ": not valid JSON (" + e.what() + ")");
  }
  if (!config.is_object()) throw FormatError(file + ": expected a JSON object");
  out->bos_token = token_string(config, "bos_token");
  out->eos_token = token_string(config, "eos_token");
  if (!want_template) return;
  const auto it = config.find("chat_template");
  if (it == config.end() || it->is_null()) return;
  const std::string where = file + ": chat_template";
  if (it->is_string()) {
    out->source = it->get<std::string>();
    out->origin = where;
    return;
  }
  if (!it->is_array()) throw FormatError(where + ": expected a string or a list");
  for (const auto& entry : *it) {
    if (!entry.is_object() || !entry.contains("name") || !entry.contains("template") ||
        !entry["name"].is_string() || !entry["template"].is_string()) {
      throw FormatError(where + ": each entry of the list must be {\"name\", \"template\"}");
    }
    if (entry["name"] == "default") {
      out->source = entry["template"].get<std::string>();
      out->origin = where + " (\"default\")";
      return;
    }
  }
  throw FormatError(where + ": a list of named templates without one named \"default\"");
}

void read_gguf(const std::string& file, ChatTemplateSource* out) {
  const detail::GgufMetadata meta = detail::read_gguf_metadata(file);
  const auto* tokens = meta.find("tokenizer.ggml.tokens");
  const auto token = [&](const char* key) -> std::string {
    const auto* id = meta.find(key);
    if (id == nullptr || tokens == nullptr || id->type == detail::GgufType::kString ||
        id->type == detail::GgufType::kArray || id->integer < 0 ||
        static_cast<size_t>(id->integer) >= tokens->texts.size()) {
      return {};
    }
    return tokens->texts[static_cast<size_t>(id->integer)];
  };
  out->bos_token = token("tokenizer.ggml.bos_token_id");
  out->eos_token = token("tokenizer.ggml.eos_token_id");
  const auto* tmpl = meta.find("tokenizer.chat_template");
  if (tmpl == nullptr) return;
  if (tmpl->type != detail::GgufType::kString) {
    throw FormatError(file + ": key \"tokenizer.chat_template\": expected a string");
  }
  out->source = tmpl->text;
  out->origin = file + ": tokenizer.chat_template";
}

}  // namespace

ChatTemplateSource find_chat_template(const std::string& path) {
  ChatTemplateSource out;
  if (fs::is_regular_file(path) && detail::is_gguf_file(path)) {
    out.searched = path + " (tokenizer.chat_template)";
    read_gguf(path, &out);
    return out;
  }
  const fs::path folder = fs::is_directory(path) ? fs::path(path) : fs::path(path).parent_path();
  const std::string jinja = (folder / "chat_template.jinja").string();
  const std::string config = (folder / "tokenizer_config.json").string();
  out.searched = jinja + ", " + config;
  const bool has_jinja = fs::is_regular_file(jinja);
  if (fs::is_regular_file(config)) read_tokenizer_config(config, !has_jinja, &out);
  if (has_jinja) {
    out.source = detail::read_file(jinja);
    out.origin = jinja;
  }
  return out;
}

ChatTemplate load_chat_template(const std::string& path, const std::string& name) {
  const ChatTemplateSource found = find_chat_template(path);
  ChatTemplate t;
  if (!name.empty()) {
    t = ChatTemplate::named(name);
  } else if (found.found()) {
    t = ChatTemplate::detect(found.source, found.origin);
  } else {
    throw InvalidArgument("no chat template found for " + path + " (looked at " + found.searched +
                          "): name the format with --chat-template NAME (ChatTemplate::named), "
                          "'plain' for a base model");
  }
  return t.with_special_tokens(found.bos_token, found.eos_token);
}

}  // namespace pplug
