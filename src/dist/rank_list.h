// "rank 1" / "ranks 0, 2": rank sets as pplug's error messages name them.
#pragma once

#include <string>
#include <vector>

namespace pplug::dist {

inline std::string rank_list(const std::vector<int>& ranks) {
  std::string text = ranks.size() == 1 ? "rank " : "ranks ";
  for (size_t i = 0; i < ranks.size(); ++i) {
    text += (i == 0 ? "" : ", ") + std::to_string(ranks[i]);
  }
  return text;
}

}  // namespace pplug::dist
