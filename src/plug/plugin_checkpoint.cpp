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

#include "format/plugin_manifest.h"
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

using detail::kPluginFormat;

bool is_plugin_folder(const fs::path& dir) {
  try {
    const json j = json::parse(detail::read_file((dir / "manifest.json").string()));
    return j.is_object() && j.contains("format") && j["format"] == kPluginFormat;
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
    save_safetensors((tmp / "plugin.safetensors").string(), tensors, {{"format", kPluginFormat}});
    json manifest = {{"format", kPluginFormat},
                     {"format_version", detail::kPluginFormatVersion},
                     {"config", detail::plugin_config_to_json(config_)},
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

}  // namespace

std::string PersonaPlug::recorded_encoder(const std::string& given_dir) {
  const std::string manifest_path =
      (fs::path(plugin_folder(given_dir, /*log=*/false)) / "manifest.json").string();
  return detail::parse_manifest_encoder_spec(detail::read_file(manifest_path), manifest_path);
}

std::shared_ptr<PersonaPlug> PersonaPlug::load(const std::string& given_dir, LoadedModel llm,
                                               std::shared_ptr<const SentenceEncoder> encoder) {
  const std::string dir = plugin_folder(given_dir, /*log=*/true);
  const std::string manifest_path = (fs::path(dir) / "manifest.json").string();
  const detail::PluginManifest m =
      detail::parse_plugin_manifest(detail::read_file(manifest_path), manifest_path);
  const PluginConfig& config = m.config;
  const auto lm = language_model_of(llm);
  if (!lm) throw InvalidArgument("PersonaPlug::load: no LLM given");
  if (m.llm_fingerprint != lm->fingerprint()) {
    throw MismatchError(dir + ": plug-in was trained for LLM " + m.llm_fingerprint +
                        " (hidden_size " + m.llm_hidden_size.text + ", vocab_size " +
                        m.llm_vocab_size.text + "), but the model given is " + lm->fingerprint() +
                        " (hidden_size " + std::to_string(lm->hidden_size()) + ", vocab_size " +
                        std::to_string(lm->vocab_size()) + ")");
  }
  // The fingerprint matched: every size the manifest states must be the model's own.
  auto same = [&](const detail::ManifestSize& stated, int64_t actual, const std::string& field) {
    if (!stated.value || *stated.value != actual) {
      throw FormatError(manifest_path + ": field '" + field + "' is " + stated.text +
                        ", but the LLM it names has " + std::to_string(actual));
    }
  };
  auto config_size = [](int64_t value) {
    return detail::ManifestSize{std::to_string(value), value};
  };
  same(m.llm_hidden_size, lm->hidden_size(), "llm.hidden_size");
  same(m.llm_num_hidden_layers, lm->num_layers(), "llm.num_hidden_layers");
  same(m.llm_vocab_size, lm->vocab_size(), "llm.vocab_size");
  same(config_size(config.llm_dim), lm->hidden_size(), "config.llm_dim");
  if (!encoder) throw InvalidArgument("PersonaPlug::load: no encoder given");
  if (m.encoder_fingerprint != encoder->fingerprint()) {
    const auto named = [](const std::string& name) {
      return name.empty() ? std::string() : " '" + name + "'";
    };
    throw MismatchError(dir + ": plug-in was trained with " + m.encoder_kind + " encoder" +
                        named(m.encoder_spec.value_or("")) + " " + m.encoder_fingerprint +
                        " (dim " + m.encoder_dim.text + "), but the encoder given is " +
                        encoder->kind() + named(encoder->spec()) + " " + encoder->fingerprint() +
                        " (dim " + std::to_string(encoder->dim()) + ")");
  }
  same(config_size(config.encoder_dim), encoder->dim(), "config.encoder_dim");
  std::shared_ptr<PersonaPlug> plug;
  try {
    plug = std::make_shared<PersonaPlug>(std::move(llm), std::move(encoder), config);
  } catch (const InvalidArgument& e) {
    throw FormatError(manifest_path + ": " + e.what());  // a config value out of range
  }
  const std::string weights_path = (fs::path(dir) / "plugin.safetensors").string();
  detail::PluginTraining::load_weights(*plug, weights_path);
  const std::string& stated = m.plugin_fingerprint;
  if (stated != plug->fingerprint()) {
    throw FormatError(weights_path + ": the weights give fingerprint " + plug->fingerprint() +
                      ", but " + manifest_path + " says plugin_fingerprint " + stated +
                      " (weights changed or mixed up after saving?)");
  }
  return plug;
}

}  // namespace pplug
