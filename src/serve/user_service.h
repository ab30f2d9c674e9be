// History updates of the service: validate the items, encode only what is new, and write the
// user's record to the store (PUT replaces, POST appends).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "pplug/persona_plug.h"
#include "serve/user_store.h"

namespace pplug::serve {

struct HistoryUpdate {
  int64_t items = 0;    // items the user now has (at most the plug-in's max_history)
  int64_t encoded = 0;  // items this update ran through the encoder
};

class UserService {
 public:
  UserService(std::shared_ptr<const PersonaPlug> plug, std::shared_ptr<UserStore> store);

  // Replaces the user's history. InvalidArgument (naming the item index and field) for an item
  // the plug-in's template cannot render or a duplicate item id; the store is then unchanged.
  HistoryUpdate replace(const std::string& id, const std::vector<HistoryItem>& items);
  // Appends items, encoding only them; creates the user when absent.
  HistoryUpdate append(const std::string& id, const std::vector<HistoryItem>& items);

  UserStore& store() { return *store_; }

 private:
  // Throws InvalidArgument for items that cannot be rendered or whose ids repeat (also against
  // `existing`).
  void validate(const std::vector<HistoryItem>& items,
                const std::vector<HistoryItem>& existing) const;

  std::shared_ptr<const PersonaPlug> plug_;
  std::shared_ptr<UserStore> store_;
};

}  // namespace pplug::serve
