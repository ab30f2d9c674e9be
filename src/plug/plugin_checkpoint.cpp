// Plug-in folders: manifest.json (format, config, fingerprints of the base LLM and encoder) and
// plugin.safetensors (the module's parameters under their names). Saved atomically.
#include <ATen/ATen.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <torch/nn/module.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <filesystem>
#include <random>
#include <set>

#include "plug/plugin_impl.h"
#include "plug/plugin_training.h"
#include "pplug/error.h"
#include "pplug/safetensors.h"
#include "util/file_io.h"
#include "util/log.h"

namespace pplug {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kFormat = "pplug-plugin";
// 2: log_gain, placement, end_with_eos, max_input_tokens; 3: query_source and input_encoder
// (2 still loads, as query_source "encoder" and input_encoder "adapter"); 4: scores (2 and 3
// load as "cosine", the only kind they knew).
constexpr int kFormatVersion = 4;
constexpr int kOldestFormatVersion = 2;

json config_to_json(const PluginConfig& c) {
  return {{"task", c.task},
          {"num_persona_tokens", c.num_persona_tokens},
          {"use_persona", c.use_persona},
          {"use_instruction", c.use_instruction},
          {"aggregator", to_string(c.aggregator)},
          {"temperature", c.temperature},
          {"scores", to_string(c.scores)},
          {"top_k", c.top_k},
          {"max_history", c.max_history},
          {"item_template", c.item_template},
          {"answer_prefix", c.answer_prefix},
          {"max_input_tokens", c.max_input_tokens},
          {"placement", to_string(c.placement)},
          {"end_with_eos", c.end_with_eos},
          {"query_source", to_string(c.query_source)},
          {"input_encoder", to_string(c.input_encoder)},
          {"encoder_dim", c.encoder_dim},
          {"llm_dim", c.llm_dim}};
}

PluginConfig config_from_json(const json& j, const std::string& source) {
  if (!j.is_object()) throw FormatError(source + ": 'config' is not an object");
  static const std::set<std::string> known = {
      "task",         "num_persona_tokens", "use_persona",   "use_instruction",
      "aggregator",   "temperature",        "scores",        "top_k",
      "max_history",  "item_template",      "answer_prefix", "encoder_dim",
      "llm_dim",      "max_input_tokens",   "placement",     "end_with_eos",
      "query_source", "input_encoder"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (known.count(it.key()) == 0) {
      throw FormatError(source + ": unknown field 'config." + it.key() + "'");
    }
  }
  auto need = [&](const char* key) -> const json& {
    if (!j.contains(key)) throw FormatError(source + ": missing field 'config." + key + "'");
    return j[key];
  };
  auto typed = [&](const char* key, bool ok, const char* what) -> const json& {
    const json& v = need(key);
    if (!ok)
      throw FormatError(source + ": field 'config." + key + "' must be " + what + ", got " +
                        v.dump());
    return v;
  };
  // An enum field: a string its parser knows; the parser's message gains the file and field.
  auto named = [&](const char* key, auto parse) {
    const std::string value =
        typed(key, need(key).is_string(), "a string").template get<std::string>();
    try {
      return parse(value);
    } catch (const InvalidArgument& e) {
      throw FormatError(source + ": field 'config." + key + "': " + e.what());
    }
  };
  PluginConfig c;
  c.task = typed("task", need("task").is_string(), "a string").get<std::string>();
  c.num_persona_tokens =
      typed("num_persona_tokens", need("num_persona_tokens").is_number_integer(), "an integer")
          .get<int>();
  c.use_persona = typed("use_persona", need("use_persona").is_boolean(), "a boolean").get<bool>();
  c.use_instruction =
      typed("use_instruction", need("use_instruction").is_boolean(), "a boolean").get<bool>();
  c.aggregator = named("aggregator", parse_aggregator);
  c.temperature = typed("temperature", need("temperature").is_number(), "a number").get<double>();
  if (j.contains("scores")) c.scores = named("scores", parse_attention_scores);
  c.top_k = typed("top_k", need("top_k").is_number_integer(), "an integer").get<int>();
  c.max_history =
      typed("max_history", need("max_history").is_number_integer(), "an integer").get<int>();
  c.item_template =
      typed("item_template", need("item_template").is_string(), "a string").get<std::string>();
  c.answer_prefix =
      typed("answer_prefix", need("answer_prefix").is_string(), "a string").get<std::string>();
  c.max_input_tokens =
      typed("max_input_tokens", need("max_input_tokens").is_number_integer(), "an integer")
          .get<int>();
  c.end_with_eos =
      typed("end_with_eos", need("end_with_eos").is_boolean(), "a boolean").get<bool>();
  c.placement = named("placement", parse_placement);
  // Absent from format 2 manifests, which all used the encoder and the adapter.
  if (j.contains("query_source")) c.query_source = named("query_source", parse_query_source);
  if (j.contains("input_encoder")) c.input_encoder = named("input_encoder", parse_input_encoder);
  c.encoder_dim =
      typed("encoder_dim", need("encoder_dim").is_number_integer(), "an integer").get<int64_t>();
  c.llm_dim = typed("llm_dim", need("llm_dim").is_number_integer(), "an integer").get<int64_t>();
  return c;
}

bool is_plugin_folder(const fs::path& dir) {
  try {
    const json j = json::parse(detail::read_file((dir / "manifest.json").string()));
    return j.is_object() && j.value("format", "") == kFormat;
  } catch (...) {
    return false;
  }
}

std::string unique_suffix() {
  std::random_device rd;
  return std::to_string(::getpid()) + "-" + std::to_string(rd());
}

// Removes what an earlier save of `target` left when it was killed: `<name>.tmp-<pid>-<n>` (a
// folder being written) and `<name>.old-<pid>-<n>` (the replaced one), of processes that are no
// longer running (a save of the same folder still going in another process is left alone).
void remove_stale_save_folders(const fs::path& parent, const std::string& name) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(parent, ec)) {
    const std::string sibling = entry.path().filename().string();
    for (const std::string mark : {".tmp-", ".old-"}) {
      const std::string prefix = name + mark;
      if (sibling.compare(0, prefix.size(), prefix) != 0) continue;
      const std::string rest = sibling.substr(prefix.size());
      const auto dash = rest.find('-');
      if (dash == std::string::npos || dash == 0 || rest.find_first_not_of("0123456789") != dash) {
        continue;
      }
      const auto pid = static_cast<pid_t>(std::stol(rest.substr(0, dash)));
      if (pid != ::getpid() && ::kill(pid, 0) != 0 && errno == ESRCH) {
        fs::remove_all(entry.path(), ec);
      }
    }
  }
}

// Puts `fresh` at `target` in one step: afterwards `fresh` holds what `target` held. False when
// the file system cannot exchange two folders (the caller then moves them one at a time).
bool exchange_folders(const fs::path& fresh, const fs::path& target) {
#ifdef RENAME_EXCHANGE
  return ::renameat2(AT_FDCWD, fresh.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) == 0;
#else
  (void)fresh;
  (void)target;
  return false;
#endif
}

}  // namespace

void PersonaPlug::save(const std::string& dir) const {
  const fs::path target(dir);
  std::error_code ec;
  if (fs::exists(target) &&
      !(fs::is_directory(target) && (fs::is_empty(target, ec) || is_plugin_folder(target)))) {
    throw InvalidArgument(dir +
                          ": exists and is not a pplug plug-in folder; refusing to overwrite");
  }
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  fs::create_directories(parent, ec);
  remove_stale_save_folders(parent, target.filename().string());
  const fs::path tmp = parent / (target.filename().string() + ".tmp-" + unique_suffix());
  fs::create_directories(tmp, ec);
  if (ec) throw Error(tmp.string() + ": cannot create: " + ec.message());
  try {
    std::vector<std::pair<std::string, torch::Tensor>> tensors;
    for (const auto& p : impl_->module->named_parameters())
      tensors.emplace_back(p.key(), p.value());
    save_safetensors((tmp / "plugin.safetensors").string(), tensors, {{"format", kFormat}});
    json manifest = {{"format", kFormat},
                     {"format_version", kFormatVersion},
                     {"config", config_to_json(config_)},
                     {"soft_token_scale", scale_},
                     {"plugin_fingerprint", fingerprint()},
                     {"llm",
                      {{"fingerprint", impl_->lm->fingerprint()},
                       {"hidden_size", impl_->lm->hidden_size()},
                       {"num_hidden_layers", impl_->lm->num_layers()},
                       {"vocab_size", impl_->lm->vocab_size()}}},
                     {"encoder",
                      {{"kind", encoder_->kind()},
                       {"fingerprint", encoder_->fingerprint()},
                       {"dim", encoder_->dim()}}}};
    if (!encoder_->spec().empty()) manifest["encoder"]["spec"] = encoder_->spec();
    detail::write_file_atomic((tmp / "manifest.json").string(), manifest.dump(2) + "\n");
    // Swap folders: `dir` is at every instant the complete old or the complete new one (where
    // the file system exchanges folders atomically; elsewhere it is missing for the instant
    // between two renames, and the next save puts things right).
    if (!fs::exists(target)) {
      fs::rename(tmp, target);
    } else if (exchange_folders(tmp, target)) {
      fs::remove_all(tmp, ec);  // the old plug-in now
    } else {
      const fs::path old = parent / (target.filename().string() + ".old-" + unique_suffix());
      fs::rename(target, old);
      fs::rename(tmp, target);
      fs::remove_all(old, ec);
    }
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
}

namespace {

// The plug-in folder of `dir`: itself, or a training run folder's best/.
std::string plugin_folder(const std::string& dir, bool log) {
  if (fs::exists(fs::path(dir) / "manifest.json") ||
      !fs::exists(fs::path(dir) / "train_run.json")) {
    return dir;
  }
  // A `pplug train --out` folder: its plug-in is best/ (last/plugin while the run is going).
  const fs::path best = fs::path(dir) / "best";
  if (!fs::exists(best / "manifest.json")) {
    throw FormatError(dir + ": is a training run folder, not a plug-in, and holds no best/ " +
                      "plug-in yet; pass " + (fs::path(dir) / "last" / "plugin").string() +
                      " for the latest checkpoint");
  }
  if (log) {
    PPLUG_LOG_INFO("{} is a training run folder: loading its best plug-in, {}", dir, best.string());
  }
  return best.string();
}

json read_manifest(const std::string& manifest_path) {
  try {
    return json::parse(detail::read_file(manifest_path));
  } catch (const json::exception& e) {
    throw FormatError(manifest_path + ": not valid JSON: " + e.what());
  }
}

}  // namespace

std::string PersonaPlug::recorded_encoder(const std::string& given_dir) {
  const std::string manifest_path =
      (fs::path(plugin_folder(given_dir, /*log=*/false)) / "manifest.json").string();
  const json m = read_manifest(manifest_path);
  if (!m.is_object() || !m.contains("encoder") || !m["encoder"].is_object() ||
      !m["encoder"].contains("spec")) {
    return "";
  }
  const json& spec = m["encoder"]["spec"];
  if (!spec.is_string()) {
    throw FormatError(manifest_path + ": field 'encoder.spec' must be a string, got " +
                      spec.dump());
  }
  return spec.get<std::string>();
}

std::shared_ptr<PersonaPlug> PersonaPlug::load(const std::string& given_dir, LoadedModel llm,
                                               std::shared_ptr<const SentenceEncoder> encoder) {
  const std::string dir = plugin_folder(given_dir, /*log=*/true);
  const std::string manifest_path = (fs::path(dir) / "manifest.json").string();
  json m = read_manifest(manifest_path);
  if (!m.is_object() || m.value("format", "") != kFormat) {
    throw FormatError(manifest_path + ": not a pplug plug-in manifest (format != \"" +
                      std::string(kFormat) + "\")");
  }
  if (!m.contains("format_version") || !m["format_version"].is_number_integer() ||
      m["format_version"].get<int>() < kOldestFormatVersion ||
      m["format_version"].get<int>() > kFormatVersion) {
    throw FormatError(manifest_path + ": unsupported format_version " +
                      (m.contains("format_version") ? m["format_version"].dump() : "(missing)"));
  }
  static const std::set<std::string> known = {
      "format",           "format_version",    "config", "llm", "encoder",
      "soft_token_scale", "plugin_fingerprint"};
  for (auto it = m.begin(); it != m.end(); ++it) {
    if (known.count(it.key()) == 0) {
      throw FormatError(manifest_path + ": unknown top-level field '" + it.key() + "'");
    }
  }
  for (const char* key : {"config", "llm", "encoder"}) {
    if (!m.contains(key) || !m[key].is_object()) {
      throw FormatError(manifest_path + ": missing object field '" + key + "'");
    }
  }
  if (!m.contains("plugin_fingerprint") || !m["plugin_fingerprint"].is_string()) {
    throw FormatError(manifest_path + ": missing string field 'plugin_fingerprint'");
  }
  const PluginConfig config = config_from_json(m["config"], manifest_path);
  const auto lm = language_model_of(llm);
  if (!lm) throw InvalidArgument("PersonaPlug::load: no LLM given");
  const std::string want_llm = m["llm"].value("fingerprint", "");
  if (want_llm != lm->fingerprint()) {
    throw MismatchError(dir + ": plug-in was trained for LLM " + want_llm + " (hidden_size " +
                        m["llm"].value("hidden_size", json()).dump() + ", vocab_size " +
                        m["llm"].value("vocab_size", json()).dump() + "), but the model given is " +
                        lm->fingerprint() + " (hidden_size " + std::to_string(lm->hidden_size()) +
                        ", vocab_size " + std::to_string(lm->vocab_size()) + ")");
  }
  // The fingerprint matched: every size the manifest states must be the model's own.
  auto same = [&](const json& stated, int64_t actual, const std::string& field) {
    if (!stated.is_number_integer() || stated.get<int64_t>() != actual) {
      throw FormatError(manifest_path + ": field '" + field + "' is " + stated.dump() +
                        ", but the LLM it names has " + std::to_string(actual));
    }
  };
  same(m["llm"].value("hidden_size", json()), lm->hidden_size(), "llm.hidden_size");
  same(m["llm"].value("num_hidden_layers", json()), lm->num_layers(), "llm.num_hidden_layers");
  same(m["llm"].value("vocab_size", json()), lm->vocab_size(), "llm.vocab_size");
  same(json(config.llm_dim), lm->hidden_size(), "config.llm_dim");
  if (!encoder) throw InvalidArgument("PersonaPlug::load: no encoder given");
  const std::string want_encoder = m["encoder"].value("fingerprint", "");
  if (want_encoder != encoder->fingerprint()) {
    const json spec = m["encoder"].value("spec", json());
    const auto named = [](const std::string& name) {
      return name.empty() ? std::string() : " '" + name + "'";
    };
    throw MismatchError(dir + ": plug-in was trained with " + m["encoder"].value("kind", "?") +
                        " encoder" + named(spec.is_string() ? spec.get<std::string>() : "") + " " +
                        want_encoder + " (dim " + m["encoder"].value("dim", json()).dump() +
                        "), but the encoder given is " + encoder->kind() + named(encoder->spec()) +
                        " " + encoder->fingerprint() + " (dim " + std::to_string(encoder->dim()) +
                        ")");
  }
  same(json(config.encoder_dim), encoder->dim(), "config.encoder_dim");
  std::shared_ptr<PersonaPlug> plug;
  try {
    plug = std::make_shared<PersonaPlug>(std::move(llm), std::move(encoder), config);
  } catch (const InvalidArgument& e) {
    throw FormatError(manifest_path + ": " + e.what());  // a config value out of range
  }
  const std::string weights_path = (fs::path(dir) / "plugin.safetensors").string();
  detail::PluginTraining::load_weights(*plug, weights_path);
  const std::string stated = m["plugin_fingerprint"].get<std::string>();
  if (stated != plug->fingerprint()) {
    throw FormatError(weights_path + ": the weights give fingerprint " + plug->fingerprint() +
                      ", but " + manifest_path + " says plugin_fingerprint " + stated +
                      " (weights changed or mixed up after saving?)");
  }
  return plug;
}

}  // namespace pplug
