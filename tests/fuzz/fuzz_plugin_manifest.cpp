// A plug-in folder's manifest.json text (parse_plugin_manifest: format, format_version, unknown
// fields, config, llm and encoder sections; parse_manifest_encoder_spec). An accepted config
// written back (plugin_config_to_json) must parse to the same JSON.
#include <cstdio>
#include <cstdlib>

#include "format/plugin_manifest.h"
#include "fuzz_support.h"

using namespace pplug;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::quiet_logs();
  const std::string text(reinterpret_cast<const char*>(data), size);
  fuzz::expect_documented([&] { (void)detail::parse_manifest_encoder_spec(text, "manifest"); });
  fuzz::expect_documented([&] {
    const detail::PluginManifest m = detail::parse_plugin_manifest(text, "manifest.json");
    if (m.format_version < detail::kOldestPluginFormatVersion ||
        m.format_version > detail::kPluginFormatVersion) {
      std::fprintf(stderr, "pplug fuzz: accepted format_version %d\n", m.format_version);
      std::abort();
    }
    const nlohmann::json j = detail::plugin_config_to_json(m.config);
    const nlohmann::json again =
        detail::plugin_config_to_json(detail::plugin_config_from_json(j, "again"));
    if (again != j) {
      std::fprintf(stderr, "pplug fuzz: plug-in config round trip changed %s into %s\n",
                   j.dump().c_str(), again.dump().c_str());
      std::abort();
    }
  });
  return 0;
}
