// Frozen prompt starts kept outside a cache and put back into a fresh one: the trainer computes
// each prompt's keys and values once and replays them every epoch.
#include <ATen/ATen.h>

#include <algorithm>
#include <string>

#include "pplug/error.h"
#include "pplug/llama_model.h"

namespace pplug {

size_t CachedPrefix::bytes() const {
  size_t total = 0;
  for (const auto& t : keys) total += t.numel() * t.element_size();
  for (const auto& t : values) total += t.numel() * t.element_size();
  return total;
}

namespace {

int64_t longest_prefix(const std::vector<const CachedPrefix*>& prefixes) {
  if (prefixes.empty()) throw InvalidArgument("KVCache: no prefixes given");
  int64_t longest = 0;
  for (const auto* p : prefixes) longest = std::max(longest, p->length);
  return longest;
}

}  // namespace

KVCache::KVCache(const LlamaModel& model, const std::vector<const CachedPrefix*>& prefixes,
                 int64_t extra)
    : KVCache(model, static_cast<int64_t>(prefixes.size()),
              longest_prefix(prefixes) + std::max<int64_t>(0, extra)) {
  const auto& c = model.config();
  const int64_t longest = capacity_ - std::max<int64_t>(0, extra);
  const int64_t kv = c.num_key_value_heads, hd = c.head_dim();
  for (size_t r = 0; r < prefixes.size(); ++r) {
    const CachedPrefix& p = *prefixes[r];
    const auto row = static_cast<int64_t>(r);
    if (p.keys.size() != keys_.size() || p.values.size() != values_.size()) {
      throw InvalidArgument("KVCache: prefix " + std::to_string(r) + " has " +
                            std::to_string(p.keys.size()) + " layers, the model " +
                            std::to_string(keys_.size()));
    }
    const int64_t pad = longest - p.length;
    for (size_t l = 0; l < keys_.size(); ++l) {
      for (const auto* t : {&p.keys[l], &p.values[l]}) {
        if (t->dim() != 3 || t->size(0) != kv || t->size(1) != p.length || t->size(2) != hd) {
          throw InvalidArgument("KVCache: prefix " + std::to_string(r) + " layer " +
                                std::to_string(l) + " has the wrong shape");
        }
      }
      keys_[l][row].narrow(1, pad, p.length).copy_(p.keys[l]);
      values_[l][row].narrow(1, pad, p.length).copy_(p.values[l]);
    }
    mask_[row].narrow(0, pad, p.length).fill_(1);
    next_position_[row] = p.length;
  }
  length_ = longest;
}

CachedPrefix KVCache::extract_row(int64_t row) const {
  if (row < 0 || row >= batch_) {
    throw InvalidArgument("KVCache::extract_row: row " + std::to_string(row) +
                          " is outside the batch of " + std::to_string(batch_));
  }
  const auto real = mask_[row].narrow(0, 0, length_).nonzero().view({-1});
  CachedPrefix out;
  out.length = real.numel();
  for (size_t l = 0; l < keys_.size(); ++l) {
    out.keys.push_back(keys_[l][row].index_select(1, real));  // (KV, P, hd), a copy
    out.values.push_back(values_[l][row].index_select(1, real));
  }
  return out;
}

}  // namespace pplug
