#include "io/family_layout.h"

#include <ATen/ATen.h>

#include <map>

#include "pplug/error.h"

namespace pplug::detail {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string layer_prefix(int64_t i) { return "model.layers." + std::to_string(i) + "."; }

struct Fused {
  const char* name;                // the fused tensor's name suffix
  std::vector<const char*> parts;  // its parts' name suffixes, in row order
};
const std::vector<Fused>& phi3_fused() {
  static const std::vector<Fused> fused{
      {"self_attn.qkv_proj.weight",
       {"self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight"}},
      {"mlp.gate_up_proj.weight", {"mlp.gate_proj.weight", "mlp.up_proj.weight"}}};
  return fused;
}

std::vector<int64_t> part_rows(const LlamaConfig& c, const Fused& f) {
  if (f.parts.size() == 3) return {c.q_dim(), c.kv_dim(), c.kv_dim()};
  return {c.intermediate_size, c.intermediate_size};
}

}  // namespace

void split_fused_projections(const LlamaConfig& c, NamedTensors* weights,
                             const std::string& source) {
  if (c.model_type != "phi3") return;
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < weights->size(); ++i) index[(*weights)[i].first] = i;
  NamedTensors out;
  std::vector<bool> taken(weights->size(), false);
  for (int64_t layer = 0; layer < c.num_hidden_layers; ++layer) {
    const std::string p = layer_prefix(layer);
    for (const auto& f : phi3_fused()) {
      const auto it = index.find(p + f.name);
      if (it == index.end()) {
        throw FormatError(source + ": missing tensor '" + p + f.name +
                          "' (phi3 stores these projections fused)");
      }
      const at::Tensor& t = (*weights)[it->second].second;
      const auto rows = part_rows(c, f);
      int64_t total = 0;
      for (int64_t r : rows) total += r;
      if (t.dim() != 2 || t.size(0) != total) {
        throw FormatError(source + ": tensor '" + p + f.name + "' has " +
                          (t.dim() == 2 ? std::to_string(t.size(0)) + " rows"
                                        : std::to_string(t.dim()) + " dimensions") +
                          ", expected a matrix of " + std::to_string(total) + " rows");
      }
      int64_t offset = 0;
      for (size_t k = 0; k < rows.size(); ++k) {
        out.emplace_back(p + f.parts[k], t.narrow(0, offset, rows[k]));
        offset += rows[k];
      }
      taken[it->second] = true;
    }
  }
  for (size_t i = 0; i < weights->size(); ++i) {
    if (!taken[i]) out.push_back(std::move((*weights)[i]));
  }
  *weights = std::move(out);
}

NamedTensors fuse_projections(const LlamaConfig& c, const NamedTensors& weights) {
  if (c.model_type != "phi3") return weights;
  std::map<std::string, at::Tensor> by_name(weights.begin(), weights.end());
  std::map<std::string, bool> fused_away;
  NamedTensors out;
  for (int64_t layer = 0; layer < c.num_hidden_layers; ++layer) {
    const std::string p = layer_prefix(layer);
    for (const auto& f : phi3_fused()) {
      std::vector<at::Tensor> parts;
      for (const char* part : f.parts) {
        const auto it = by_name.find(p + part);
        if (it == by_name.end())
          throw InvalidArgument("the model has no tensor '" + p + part + "'");
        parts.push_back(it->second);
        fused_away[p + part] = true;
      }
      out.emplace_back(p + f.name, at::cat(parts, 0));
    }
  }
  for (const auto& [name, t] : weights) {
    if (fused_away.count(name) == 0) out.emplace_back(name, t);
  }
  return out;
}

void shift_norm_weights(const LlamaConfig& c, NamedTensors* weights, double delta) {
  if (c.model_type != "gemma") return;
  for (auto& [name, t] : *weights) {
    if (ends_with(name, "norm.weight")) t = t.to(at::kFloat) + delta;
  }
}

}  // namespace pplug::detail
