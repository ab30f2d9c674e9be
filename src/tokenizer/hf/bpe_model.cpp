// Byte-pair encoding with the semantics of Hugging Face tokenizers' BPE model: characters (or
// byte-fallback tokens) become symbols, then the lowest-ranked adjacent pair merges first
// (leftmost on ties) until no rule applies. A per-model cache keeps the ids of short pre-tokens.
#include <array>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <queue>
#include <shared_mutex>

#include "pplug/error.h"
#include "text/utf8.h"
#include "tokenizer/hf/model.h"

namespace pplug::hf {
namespace {

// HF caches words shorter than this many bytes, up to kCacheCapacity of them.
constexpr std::size_t kCacheMaxBytes = 256;
constexpr std::size_t kCacheCapacity = 10000;

uint64_t pair_key(int left, int right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

struct Symbol {
  int id;
  int prev;
  int next;
  std::size_t len;  // 0: merged into its left neighbour
};

struct Candidate {
  uint32_t rank;
  int pos;
  int new_id;
  // std::priority_queue pops the largest: invert so the lowest rank, then position, comes first.
  bool operator<(const Candidate& other) const {
    return rank != other.rank ? rank > other.rank : pos > other.pos;
  }
};

struct MergeTarget {
  uint32_t rank;
  int new_id;
};

class BpeModel : public Model {
 public:
  BpeModel(Vocab vocab, std::unordered_map<uint64_t, MergeTarget> merges, BpeOptions options)
      : vocab_(std::move(vocab)), merges_(std::move(merges)), options_(std::move(options)) {
    if (!options_.unk_token.empty()) {
      const auto it = vocab_.find(options_.unk_token);
      if (it != vocab_.end()) unk_id_ = it->second;
    }
    byte_ids_.fill(-1);
    if (options_.byte_fallback) {
      for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof(name), "<0x%02X>", b);
        const auto it = vocab_.find(name);
        if (it != vocab_.end()) byte_ids_[static_cast<std::size_t>(b)] = it->second;
      }
    }
  }

  const Vocab& vocab() const override { return vocab_; }
  int unk_id() const override { return unk_id_; }

  void tokenize(std::string_view piece, std::vector<int>& ids) const override {
    if (piece.empty()) return;
    const std::string key(piece);
    if (options_.ignore_merges) {
      const auto it = vocab_.find(key);
      if (it != vocab_.end()) {
        ids.push_back(it->second);
        return;
      }
    }
    const bool cacheable = piece.size() < kCacheMaxBytes;
    if (cacheable) {
      std::shared_lock<std::shared_mutex> lock(cache_mutex_);
      const auto it = cache_.find(key);
      if (it != cache_.end()) {
        ids.insert(ids.end(), it->second.begin(), it->second.end());
        return;
      }
    }
    std::vector<int> word = merge_word(piece);
    ids.insert(ids.end(), word.begin(), word.end());
    if (cacheable) {
      std::unique_lock<std::shared_mutex> lock(cache_mutex_);
      if (cache_.size() < kCacheCapacity) cache_.emplace(key, std::move(word));
    }
  }

 private:
  // The initial symbols of `piece`: one per character, as HF's BPE::merge_word.
  std::vector<Symbol> initial_symbols(std::string_view piece) const {
    std::vector<Symbol> symbols;
    symbols.reserve(piece.size());
    const auto add = [&](int id, std::size_t len) {
      const int index = static_cast<int>(symbols.size());
      symbols.push_back({id, index - 1, index + 1, len});
    };
    bool have_unk = false;
    std::size_t unk_len = 0;
    std::string s;
    for (std::size_t pos = 0; pos < piece.size();) {
      std::size_t length = 0;
      detail::code_point_at(piece, pos, &length);
      const bool is_first = pos == 0;
      const bool is_last = pos + length >= piece.size();
      s.clear();
      if (!is_first) s += options_.continuing_subword_prefix;
      s.append(piece.substr(pos, length));
      if (is_last) s += options_.end_of_word_suffix;
      pos += length;
      const auto it = vocab_.find(s);
      if (it != vocab_.end()) {
        if (have_unk) add(unk_id_, unk_len);
        have_unk = false;
        add(it->second, length);
        continue;
      }
      if (options_.byte_fallback) {
        bool all = true;
        for (char c : s) all = all && byte_ids_[static_cast<unsigned char>(c)] >= 0;
        if (all) {
          // As HF: a pending unknown is not flushed before the byte tokens.
          for (char c : s) add(byte_ids_[static_cast<unsigned char>(c)], 1);
          continue;
        }
      }
      if (unk_id_ < 0) continue;  // no unknown token: the character is dropped
      if (have_unk && options_.fuse_unk) {
        unk_len += length;
      } else {
        if (have_unk) add(unk_id_, unk_len);
        have_unk = true;
        unk_len = length;
      }
    }
    if (have_unk) add(unk_id_, unk_len);
    if (!symbols.empty()) symbols.back().next = -1;
    return symbols;
  }

  const MergeTarget* find_merge(int left, int right) const {
    const auto it = merges_.find(pair_key(left, right));
    return it == merges_.end() ? nullptr : &it->second;
  }

  std::vector<int> merge_word(std::string_view piece) const {
    std::vector<Symbol> symbols = initial_symbols(piece);
    std::vector<Candidate> heap_storage;
    heap_storage.reserve(symbols.size());
    std::priority_queue<Candidate> queue(std::less<Candidate>(), std::move(heap_storage));
    for (std::size_t i = 0; i + 1 < symbols.size(); ++i) {
      if (const MergeTarget* m = find_merge(symbols[i].id, symbols[i + 1].id)) {
        queue.push({m->rank, static_cast<int>(i), m->new_id});
      }
    }
    while (!queue.empty()) {
      const Candidate top = queue.top();
      queue.pop();
      Symbol& current = symbols[static_cast<std::size_t>(top.pos)];
      if (current.len == 0 || current.next < 0) continue;
      const int next_pos = current.next;
      const Symbol right = symbols[static_cast<std::size_t>(next_pos)];
      const MergeTarget* m = find_merge(current.id, right.id);
      if (m == nullptr || m->new_id != top.new_id) continue;  // a stale entry
      current.id = top.new_id;
      current.len += right.len;
      current.next = right.next;
      symbols[static_cast<std::size_t>(next_pos)].len = 0;
      if (right.next >= 0) symbols[static_cast<std::size_t>(right.next)].prev = top.pos;
      if (current.prev >= 0) {
        const Symbol& prev = symbols[static_cast<std::size_t>(current.prev)];
        if (const MergeTarget* pm = find_merge(prev.id, current.id)) {
          queue.push({pm->rank, current.prev, pm->new_id});
        }
      }
      if (current.next >= 0) {
        const Symbol& next = symbols[static_cast<std::size_t>(current.next)];
        if (const MergeTarget* nm = find_merge(current.id, next.id)) {
          queue.push({nm->rank, top.pos, nm->new_id});
        }
      }
    }
    std::vector<int> ids;
    for (const Symbol& s : symbols) {
      if (s.len != 0) ids.push_back(s.id);
    }
    return ids;
  }

  Vocab vocab_;
  std::unordered_map<uint64_t, MergeTarget> merges_;
  BpeOptions options_;
  int unk_id_ = -1;
  std::array<int, 256> byte_ids_{};
  mutable std::shared_mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int>> cache_;
};

}  // namespace

std::unique_ptr<Model> make_bpe_model(Vocab vocab, const std::vector<MergeRule>& merges,
                                      BpeOptions options,
                                      const std::function<std::string(std::size_t)>& where_merge) {
  std::unordered_map<uint64_t, MergeTarget> table;
  table.reserve(merges.size());
  const std::size_t prefix_len = options.continuing_subword_prefix.size();
  const auto lookup = [&](const std::string& token, std::size_t i, const char* role) {
    const auto it = vocab.find(token);
    if (it == vocab.end()) {
      throw FormatError(where_merge(i) + ": " + role + " token \"" + token +
                        "\" is not in model.vocab");
    }
    return it->second;
  };
  for (std::size_t i = 0; i < merges.size(); ++i) {
    const MergeRule& rule = merges[i];
    const int left = lookup(rule.left, i, "left");
    const int right = lookup(rule.right, i, "right");
    if (rule.right.size() < prefix_len) {
      throw FormatError(where_merge(i) + ": right token \"" + rule.right +
                        "\" is shorter than continuing_subword_prefix");
    }
    const int merged = lookup(rule.left + rule.right.substr(prefix_len), i, "merged");
    // Later duplicates override earlier ones, as HF's map collection does.
    table[pair_key(left, right)] = {static_cast<uint32_t>(i), merged};
  }
  return std::make_unique<BpeModel>(std::move(vocab), std::move(table), std::move(options));
}

}  // namespace pplug::hf
