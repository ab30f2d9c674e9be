#include "serve/history_json.h"

#include "pplug/error.h"
#include "serve/json_excerpt.h"

namespace pplug::serve {

using nlohmann::json;

std::vector<lamp::ProfileItem> history_items_from_json(const json& array,
                                                       const std::string& where) {
  if (!array.is_array()) {
    throw FormatError(where + ": history must be a JSON array of profile items, got a JSON " +
                      array.type_name());
  }
  std::vector<lamp::ProfileItem> items;
  items.reserve(array.size());
  for (size_t i = 0; i < array.size(); ++i) {
    const json& record = array[i];
    const std::string at = where + ": history item " + std::to_string(i);
    if (!record.is_object()) {
      throw FormatError(at + " must be an object, got " + json_excerpt(record));
    }
    lamp::ProfileItem item;
    for (auto it = record.begin(); it != record.end(); ++it) {
      const json& v = it.value();
      if (it.key() == "id") {
        if (v.is_string()) {
          item.id = v.get<std::string>();
        } else if (v.is_number_integer()) {
          item.id = v.dump();
        } else {
          throw FormatError(at + ": field 'id' must be a string, got " + json_excerpt(v));
        }
      } else if (v.is_string()) {
        item.fields.push_back({it.key(), v.get<std::string>(), false});
      } else if (v.is_number() || v.is_boolean()) {
        item.fields.push_back({it.key(), v.dump(), true});
      } else {
        throw FormatError(at + ": field '" + it.key() + "' must be a string or a number, got " +
                          json_excerpt(v));
      }
    }
    items.push_back(std::move(item));
  }
  return items;
}

json history_items_to_json(const std::vector<lamp::ProfileItem>& items) {
  json out = json::array();
  for (const auto& item : items) {
    json record = json::object();
    if (!item.id.empty()) record["id"] = item.id;
    for (const auto& f : item.fields) {
      record[f.name] = f.raw_json ? json::parse(f.value) : json(f.value);
    }
    out.push_back(std::move(record));
  }
  return out;
}

}  // namespace pplug::serve
