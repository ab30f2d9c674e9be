// History items (pplug::HistoryItem, a lamp::ProfileItem) as JSON: the profile-item objects `pplug
// embed --history` reads and the service accepts ({"id": "h1", "text": "...", "score": 4}), and
// their JSON form in the store.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "pplug/lamp_data.h"

namespace pplug::serve {

// Items from a JSON array of objects whose members are strings or numbers/booleans (kept as
// their JSON text); "id" optional (a string or an integer). Throws FormatError naming `where`,
// the item index and the field otherwise.
std::vector<lamp::ProfileItem> history_items_from_json(const nlohmann::json& array,
                                                       const std::string& where);
// The inverse: one object per item, "id" first when non-empty, numbers written back as numbers.
nlohmann::json history_items_to_json(const std::vector<lamp::ProfileItem>& items);

}  // namespace pplug::serve
