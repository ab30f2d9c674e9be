// UserEmbedding serialisation: safetensors bytes whose metadata carries ids and fingerprints.
#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "format/user_embedding_record.h"
#include "models/tensor_checks.h"
#include "plug/plugin_impl.h"
#include "pplug/error.h"
#include "pplug/persona_plug.h"
#include "pplug/safetensors.h"
#include "util/file_io.h"

namespace pplug {
namespace {
constexpr const char* kFormat = detail::kUserEmbeddingFormat;
constexpr int kVersion = detail::kUserEmbeddingVersion;
constexpr int kCompactVersion = detail::kUserEmbeddingCompactVersion;
}  // namespace

UserEmbedding UserEmbedding::appended(const UserEmbedding& added, int64_t max_items) const {
  if (max_items < 1) {
    throw InvalidArgument("UserEmbedding::appended: max_items must be >= 1, got " +
                          std::to_string(max_items));
  }
  if (num_items() > 0 && added.num_items() > 0 &&
      (encoder_fingerprint_ != added.encoder_fingerprint_ ||
       plugin_fingerprint_ != added.plugin_fingerprint_)) {
    throw InvalidArgument(
        "UserEmbedding::appended: the embeddings come from different plug-ins "
        "or encoders (" +
        plugin_fingerprint_ + " / " + encoder_fingerprint_ + " and " + added.plugin_fingerprint_ +
        " / " + added.encoder_fingerprint_ + ")");
  }
  if (num_items() > 0 && added.num_items() > 0 &&
      item_keys_.defined() != added.item_keys_.defined()) {
    throw InvalidArgument("UserEmbedding::appended: one embedding has item keys, the other not");
  }
  UserEmbedding out = added.num_items() > 0 ? added : *this;
  out.item_ids_ = item_ids_;
  out.item_ids_.insert(out.item_ids_.end(), added.item_ids_.begin(), added.item_ids_.end());
  try {
    detail::require_unique_item_ids(out.item_ids_, "appended user embedding");
  } catch (const FormatError& e) {
    throw InvalidArgument(e.what());
  }
  const auto rows = static_cast<int64_t>(out.item_ids_.size());
  if (rows == 0) return out;
  auto join = [&](const torch::Tensor& a, const torch::Tensor& b) {
    if (!a.defined() || a.size(0) == 0) return b;
    if (!b.defined() || b.size(0) == 0) return a;
    return at::cat({a, b});
  };
  const int64_t drop = std::max<int64_t>(0, rows - max_items);
  auto tail = [&](const torch::Tensor& t) {
    return t.defined() ? t.slice(0, drop).contiguous() : t;
  };
  out.item_vectors_ = tail(join(item_vectors_, added.item_vectors_));
  // Projections stay only when both sides hold them (a compact form recomputes them per query).
  const bool projected = (num_items() == 0 || item_projections_.defined()) &&
                         (added.num_items() == 0 || added.item_projections_.defined());
  out.item_projections_ =
      projected ? tail(join(item_projections_, added.item_projections_)) : torch::Tensor();
  out.item_keys_ = tail(join(item_keys_, added.item_keys_));
  out.item_ids_.erase(out.item_ids_.begin(), out.item_ids_.begin() + drop);
  return out;
}

namespace {

// Rows of `t` (N, d) as int8 with one f32 scale per row (its largest magnitude / 127).
std::pair<torch::Tensor, torch::Tensor> quantize_rows(const torch::Tensor& t) {
  const auto scale = t.abs().amax(1) / 127.0;  // (N)
  const auto safe = at::where(scale > 0, scale, at::ones_like(scale));
  const auto q = at::round(t / safe.unsqueeze(1)).clamp(-127, 127).to(at::kChar);
  return {q, scale.to(at::kFloat)};
}

// Adds `name` (N, d) f32 to `tensors` in the storage type `vectors` ("f32", "bf16", "int8").
void add_vectors(std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                 const std::string& name, const torch::Tensor& t, const std::string& vectors) {
  if (vectors == "f32") {
    tensors.emplace_back(name, t);
  } else if (vectors == "bf16") {
    tensors.emplace_back(name, t.to(at::kBFloat16));
  } else {
    auto [q, scale] = quantize_rows(t);
    tensors.emplace_back(name, q);
    tensors.emplace_back(name + "_scale", scale);
  }
}

// Reads `name` back as f32 (N, cols): stored F32, BF16, or I8 with a `name`_scale row of scales
// (parse_user_embedding_record checked the dtypes and shapes).
torch::Tensor read_vectors(const SafetensorsFile& file, const std::string& name, int64_t n,
                           const std::string& source) {
  torch::Tensor out;
  if (file.info(name).dtype == "I8") {
    const std::string scale_name = name + "_scale";
    const auto scale = file.get(scale_name, torch::kFloat32, {n});
    detail::require_finite(scale, source, scale_name);
    out = file.get(name).to(at::kFloat) * scale.unsqueeze(1);
  } else {
    out = file.get(name, torch::kFloat32);
  }
  detail::require_finite(out, source, name);
  return out;
}

}  // namespace

std::string UserEmbedding::to_bytes(const EmbeddingStorage& storage) const {
  if (storage.vectors != "f32" && storage.vectors != "bf16" && storage.vectors != "int8") {
    throw InvalidArgument("user embedding storage: vectors must be f32, bf16 or int8, got '" +
                          storage.vectors + "'");
  }
  // The file format keys items by id: a history with one id twice is refused before writing.
  try {
    detail::require_unique_item_ids(item_ids_, "user embedding");
  } catch (const FormatError& e) {
    throw InvalidArgument(std::string(e.what()) + "; give every history item its own id");
  }
  // The full form stays version 1, so that earlier readers keep reading what they can.
  const bool projections = storage.projections && item_projections_.defined();
  const bool full = storage.vectors == "f32" && (projections || num_items() == 0);
  nlohmann::json ids = item_ids_;
  std::map<std::string, std::string> meta = {
      {"format", kFormat},
      {"format_version", std::to_string(full ? kVersion : kCompactVersion)},
      {"item_ids", ids.dump()},
      {"encoder_fingerprint", encoder_fingerprint_},
      {"plugin_fingerprint", plugin_fingerprint_}};
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  if (item_vectors_.defined()) {
    add_vectors(tensors, "item_vectors", item_vectors_, storage.vectors);
    if (projections) tensors.emplace_back("item_projections", item_projections_);
    if (item_keys_.defined()) add_vectors(tensors, "item_keys", item_keys_, storage.vectors);
  }
  return serialize_safetensors(tensors, meta);
}

UserEmbedding UserEmbedding::from_bytes(const std::string& bytes, const std::string& source) {
  // Metadata, ids, dtypes and shapes are validated before any tensor is built.
  detail::UserEmbeddingRecord record = detail::parse_user_embedding_record(bytes, source);
  UserEmbedding user;
  user.encoder_fingerprint_ = std::move(record.encoder_fingerprint);
  user.plugin_fingerprint_ = std::move(record.plugin_fingerprint);
  user.item_ids_ = std::move(record.item_ids);
  if (user.item_ids_.empty()) return user;
  const auto n = static_cast<int64_t>(user.item_ids_.size());
  const SafetensorsFile file = SafetensorsFile::from_bytes(bytes, source);
  user.item_vectors_ = read_vectors(file, "item_vectors", n, source);
  if (record.has_projections) {
    user.item_projections_ = file.get("item_projections", torch::kFloat32);
    detail::require_finite(user.item_projections_, source, "item_projections");
  }
  if (record.has_keys) user.item_keys_ = read_vectors(file, "item_keys", n, source);
  return user;
}

void UserEmbedding::save(const std::string& path, const EmbeddingStorage& storage) const {
  detail::write_file_atomic(path, to_bytes(storage));
}

UserEmbedding UserEmbedding::load(const std::string& path) {
  return from_bytes(detail::read_file(path), path);
}

}  // namespace pplug
