// The decoder's KV cache: preallocated keys and values of every layer, rows left-padded so that
// every row's next token goes to the same slot. Beam search reorders its rows; continuous
// batching appends rows started elsewhere and drops finished ones.
#include <ATen/ATen.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "pplug/error.h"
#include "pplug/llama_model.h"

namespace pplug {

KVCache::KVCache(const LlamaModel& model, int64_t batch, int64_t capacity)
    : batch_(batch), capacity_(capacity) {
  const auto& c = model.config();
  if (batch <= 0 || capacity <= 0) {
    throw InvalidArgument("KVCache: batch and capacity must be positive");
  }
  if (capacity > c.max_position_embeddings) {
    throw InvalidArgument("KVCache: capacity " + std::to_string(capacity) +
                          " exceeds max_position_embeddings " +
                          std::to_string(c.max_position_embeddings));
  }
  const auto opts = at::TensorOptions().dtype(model.dtype());
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    keys_.push_back(at::zeros({batch, c.num_key_value_heads, capacity, c.head_dim()}, opts));
    values_.push_back(at::zeros({batch, c.num_key_value_heads, capacity, c.head_dim()}, opts));
  }
  mask_ = at::zeros({batch, capacity}, at::kLong);
  next_position_ = at::zeros({batch}, at::kLong);
}

namespace {

// Continuous batching grows and shrinks a cache by a few rows every few steps. Its tensors are
// then views of larger allocations (spare rows, spare slots ahead), so that a row joins by a
// copy of its own slots and rows leave by moving the rows after them, not by a copy of the
// whole cache each time.

// Rows the allocation behind `t` (a contiguous (rows, ...) view starting at row 0) can hold.
int64_t row_capacity(const torch::Tensor& t) {
  int64_t row = t.element_size();
  for (int64_t d = 1; d < t.dim(); ++d) row *= t.size(d);
  return row == 0 ? 0 : static_cast<int64_t>(t.storage().nbytes()) / row;
}

// `t` viewed with `rows` rows of its allocation (at most row_capacity(t)).
torch::Tensor with_rows(const torch::Tensor& t, int64_t rows) {
  auto sizes = t.sizes().vec();
  sizes[0] = rows;
  return at::empty({0}, t.options()).set_(t.storage(), 0, sizes, t.strides());
}

}  // namespace

void KVCache::reorder(const torch::Tensor& index) {
  // Beam search calls this every step: copy only the filled slots of each kept row (the rest
  // is never read before it is written), not whole capacity-long rows as index_select would.
  const auto rows = index.to(at::kLong).contiguous();
  const int64_t* src = rows.data_ptr<int64_t>();
  for (int64_t r = 0; r < rows.numel(); ++r) {
    if (src[r] < 0 || src[r] >= batch_) {
      throw InvalidArgument("KVCache::reorder: row " + std::to_string(src[r]) +
                            " is outside the batch of " + std::to_string(batch_));
    }
  }
  bool dropping = true;  // rows only leave, the others keep their order: move them down
  for (int64_t r = 1; r < rows.numel() && dropping; ++r) dropping = src[r] > src[r - 1];
  if (dropping) {
    auto shift = [&](torch::Tensor& t, int64_t slot_dim, int64_t slots) {
      for (int64_t r = 0; r < rows.numel(); ++r) {
        if (src[r] == r || slots == 0) continue;  // src[r] > r: the copy never overlaps
        t[r].narrow(slot_dim - 1, 0, slots).copy_(t[src[r]].narrow(slot_dim - 1, 0, slots));
      }
      t = t.narrow(0, 0, rows.numel());
    };
    for (auto& k : keys_) shift(k, 2, length_);
    for (auto& v : values_) shift(v, 2, length_);
    shift(mask_, 1, length_);
    next_position_ = next_position_.index_select(0, rows);
    batch_ = rows.numel();
    return;
  }
  auto gather = [&](torch::Tensor& t) {
    auto out = at::empty({rows.numel(), t.size(1), t.size(2), t.size(3)}, t.options());
    const int64_t heads = t.size(1), slab = t.size(2) * t.size(3);  // one head's (cap, hd)
    const size_t bytes = static_cast<size_t>(length_ * t.size(3)) * t.element_size();
    auto* dst_base = static_cast<char*>(out.data_ptr());
    const auto* src_base = static_cast<const char*>(t.data_ptr());
    for (int64_t r = 0; r < rows.numel(); ++r) {
      for (int64_t h = 0; h < heads; ++h) {
        std::memcpy(dst_base + (r * heads + h) * slab * t.element_size(),
                    src_base + (src[r] * heads + h) * slab * t.element_size(), bytes);
      }
    }
    t = out;
  };
  for (auto& k : keys_) gather(k);
  for (auto& v : values_) gather(v);
  mask_ = mask_.index_select(0, rows);
  next_position_ = next_position_.index_select(0, rows);
  batch_ = rows.numel();
}

namespace {

// Slots from the first one any row holds a real token in up to `length`: what must be kept of
// a cache (the slots before are padding in every row). 0 for a cache without rows.
int64_t used_span(const torch::Tensor& mask, int64_t length) {
  if (mask.size(0) == 0 || length == 0) return 0;
  const auto any = mask.narrow(1, 0, length).amax(0);  // (length) 1 where some row is real
  const auto real = any.nonzero();
  return real.numel() == 0 ? 0 : length - real[0][0].item<int64_t>();
}

}  // namespace

void KVCache::append(const KVCache& other) {
  if (other.keys_.size() != keys_.size() ||
      (!keys_.empty() &&
       (other.keys_[0].size(1) != keys_[0].size(1) || other.keys_[0].size(3) != keys_[0].size(3) ||
        other.keys_[0].scalar_type() != keys_[0].scalar_type()))) {
    throw InvalidArgument("KVCache::append: the caches belong to models of different shapes");
  }
  if (other.batch_ == 0) return;
  const int64_t span_b = used_span(other.mask_, other.length_);
  const int64_t room_b = other.capacity_ - other.length_;
  const int64_t rows = batch_ + other.batch_;
  // A row's padding slots are zeroed: the ATen path multiplies masked slots by zero weights, and
  // stale values (NaN, say) left by an earlier row would poison that product. Slots from
  // length() on are written before they are read, so they are left as they are.
  auto place = [](const torch::Tensor& from, int64_t from_length, int64_t kept, torch::Tensor to,
                  int64_t length, int64_t slot_dim) {
    to.narrow(slot_dim, 0, length - kept).zero_();
    if (kept > 0) {
      to.narrow(slot_dim, length - kept, kept)
          .copy_(from.narrow(slot_dim, from_length - kept, kept));
    }
  };
  const bool in_place = batch_ > 0 && span_b <= length_ && room_b <= capacity_ - length_ &&
                        row_capacity(keys_.empty() ? mask_ : keys_[0]) >= rows &&
                        row_capacity(mask_) >= rows;
  if (in_place) {  // the new rows go into spare rows, right-aligned at length()
    for (size_t l = 0; l < keys_.size(); ++l) {
      keys_[l] = with_rows(keys_[l], rows);
      values_[l] = with_rows(values_[l], rows);
      place(other.keys_[l], other.length_, span_b, keys_[l].narrow(0, batch_, other.batch_),
            length_, 2);
      place(other.values_[l], other.length_, span_b, values_[l].narrow(0, batch_, other.batch_),
            length_, 2);
    }
    mask_ = with_rows(mask_, rows);
    place(other.mask_, other.length_, span_b, mask_.narrow(0, batch_, other.batch_), length_, 1);
    next_position_ = at::cat({next_position_, other.next_position_});
    batch_ = rows;
    return;
  }
  // A new allocation: slots no row uses any more are dropped, and spare rows and slots are kept
  // (half as many rows again, and the larger room once more) so that the next joins fit.
  const int64_t span_a = used_span(mask_, length_), span = std::max(span_a, span_b);
  const int64_t room = std::max(batch_ > 0 ? capacity_ - length_ : int64_t{0}, room_b);
  const int64_t capacity = std::max<int64_t>(1, span + room + std::max<int64_t>(room, 32));
  const int64_t allocated_rows = rows + std::max<int64_t>(4, rows / 2);
  for (size_t l = 0; l < keys_.size(); ++l) {
    for (auto* list : {&keys_, &values_}) {
      const auto& mine = (*list)[l];
      const auto& theirs = (list == &keys_ ? other.keys_ : other.values_)[l];
      auto merged =
          at::empty({allocated_rows, mine.size(1), capacity, mine.size(3)}, mine.options());
      auto used = merged.narrow(0, 0, rows);
      if (batch_ > 0) place(mine, length_, span_a, used.narrow(0, 0, batch_), span, 2);
      place(theirs, other.length_, span_b, used.narrow(0, batch_, other.batch_), span, 2);
      (*list)[l] = used;
    }
  }
  auto mask = at::empty({allocated_rows, capacity}, at::kLong).narrow(0, 0, rows);
  if (batch_ > 0) place(mask_, length_, span_a, mask.narrow(0, 0, batch_), span, 1);
  place(other.mask_, other.length_, span_b, mask.narrow(0, batch_, other.batch_), span, 1);
  mask_ = mask;
  next_position_ = at::cat({next_position_, other.next_position_});
  scratch_ = torch::Tensor();  // sized for the new capacity on first use
  batch_ = rows;
  capacity_ = capacity;
  length_ = span;
}

}  // namespace pplug
