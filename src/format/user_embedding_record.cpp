#include "format/user_embedding_record.h"

#include <nlohmann/json.hpp>

#include <string_view>
#include <unordered_map>

#include "pplug/error.h"

namespace pplug::detail {
namespace {

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// Checks `name` (N, cols) as stored item vectors: F32, BF16, or I8 with a `name`_scale of N.
void check_vectors(const SafetensorsHeader& header, const std::string& name, int64_t n,
                   const std::string& source) {
  const SafetensorsEntry& info = header.tensors.at(name);
  if (info.shape.size() != 2 || info.shape[0] != n) {
    throw FormatError(source + ": " + name + " must have " + std::to_string(n) +
                      " rows (one per item id), it has shape " + shape_string(info.shape));
  }
  if (info.dtype == "F32" || info.dtype == "BF16") return;
  if (info.dtype == "I8") {
    const std::string scale_name = name + "_scale";
    const auto scale = header.tensors.find(scale_name);
    if (scale == header.tensors.end()) {
      throw FormatError(source + ": " + name + " is int8 but " + scale_name + " is missing");
    }
    if (scale->second.shape != std::vector<int64_t>{n}) {
      throw FormatError(source + ": tensor '" + scale_name + "' has shape " +
                        shape_string(scale->second.shape) + ", expected [" + std::to_string(n) +
                        "]");
    }
    return;
  }
  throw FormatError(source + ": " + name + " has dtype " + info.dtype +
                    "; user embeddings store F32, BF16 or I8 item vectors");
}

}  // namespace

void require_unique_item_ids(const std::vector<std::string>& ids, const std::string& source) {
  std::unordered_map<std::string_view, size_t> seen;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i].empty()) continue;  // items without an id
    const auto [it, fresh] = seen.emplace(ids[i], i);
    if (!fresh) {
      throw FormatError(source + ": item id '" + ids[i] + "' appears twice (items " +
                        std::to_string(it->second) + " and " + std::to_string(i) + ")");
    }
  }
}

UserEmbeddingRecord parse_user_embedding_record(const std::string& bytes,
                                                const std::string& source) {
  UserEmbeddingRecord out;
  out.header = parse_safetensors_header(reinterpret_cast<const uint8_t*>(bytes.data()),
                                        bytes.size(), source);
  const auto& meta = out.header.metadata;
  auto field = [&](const char* key) -> const std::string& {
    const auto it = meta.find(key);
    if (it == meta.end()) throw FormatError(source + ": missing metadata field '" + key + "'");
    return it->second;
  };
  if (field("format") != kUserEmbeddingFormat) {
    throw FormatError(source + ": not a user embedding (format '" + field("format") + "')");
  }
  const std::string& version = field("format_version");
  if (version != std::to_string(kUserEmbeddingVersion) &&
      version != std::to_string(kUserEmbeddingCompactVersion)) {
    throw FormatError(source + ": unsupported format_version " + version);
  }
  out.compact = version == std::to_string(kUserEmbeddingCompactVersion);
  out.encoder_fingerprint = field("encoder_fingerprint");
  out.plugin_fingerprint = field("plugin_fingerprint");
  try {
    out.item_ids = nlohmann::json::parse(field("item_ids")).get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(source + ": metadata item_ids is not a JSON string array");
  }
  require_unique_item_ids(out.item_ids, source);
  if (out.item_ids.empty()) return out;
  const auto n = static_cast<int64_t>(out.item_ids.size());
  const auto& tensors = out.header.tensors;
  out.has_projections = tensors.count("item_projections") > 0;
  out.has_keys = tensors.count("item_keys") > 0;
  if (tensors.count("item_vectors") == 0 || (!out.compact && !out.has_projections)) {
    throw FormatError(source + ": missing item_vectors or item_projections");
  }
  check_vectors(out.header, "item_vectors", n, source);
  if (out.has_projections) {
    const SafetensorsEntry& p = tensors.at("item_projections");
    if (p.shape.size() != 2 || p.shape[0] != n) {
      throw FormatError(source + ": tensor rows disagree with the " + std::to_string(n) +
                        " item ids");
    }
  }
  if (out.has_keys) {
    check_vectors(out.header, "item_keys", n, source);
    const auto& keys = tensors.at("item_keys").shape;
    const auto& vectors = tensors.at("item_vectors").shape;
    if (keys != vectors) {
      throw FormatError(source + ": item_keys has shape " + shape_string(keys) + ", item_vectors " +
                        shape_string(vectors) + " (they must match)");
    }
  }
  return out;
}

}  // namespace pplug::detail
