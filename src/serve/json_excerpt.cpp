#include "serve/json_excerpt.h"

namespace pplug::serve {

std::string json_excerpt(const nlohmann::json& value) {
  using nlohmann::json;
  if (value.is_array()) return "a JSON array of " + std::to_string(value.size()) + " elements";
  if (value.is_object()) return "a JSON object of " + std::to_string(value.size()) + " members";
  if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    if (text.size() > 60) {
      return json(text.substr(0, 57)).dump(-1, ' ', false, json::error_handler_t::replace) +
             " (cut)";
    }
  }
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace pplug::serve
