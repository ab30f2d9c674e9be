#include "serve/user_service.h"

#include <unordered_set>

#include "pplug/error.h"

namespace pplug::serve {
namespace {

// The last `keep` items (the most recent: histories list the oldest first).
std::vector<HistoryItem> last_items(std::vector<HistoryItem> items, size_t keep) {
  if (items.size() > keep) items.erase(items.begin(), items.end() - static_cast<ptrdiff_t>(keep));
  return items;
}

}  // namespace

UserService::UserService(std::shared_ptr<const PersonaPlug> plug, std::shared_ptr<UserStore> store)
    : plug_(std::move(plug)), store_(std::move(store)) {}

void UserService::validate(const std::vector<HistoryItem>& items,
                           const std::vector<HistoryItem>& existing) const {
  std::unordered_set<std::string> ids;
  for (const auto& item : existing) {
    if (!item.id.empty()) ids.insert(item.id);
  }
  for (size_t i = 0; i < items.size(); ++i) {
    try {
      plug_->item_text(items[i]);  // throws naming the missing field and the template
    } catch (const InvalidArgument& e) {
      throw InvalidArgument("history item " + std::to_string(i) + ": " + e.what());
    }
    if (!items[i].id.empty() && !ids.insert(items[i].id).second) {
      throw InvalidArgument("history item " + std::to_string(i) + ": id '" + items[i].id +
                            "' is already in the user's history (ids must be unique)");
    }
  }
}

HistoryUpdate UserService::replace(const std::string& id, const std::vector<HistoryItem>& items) {
  validate(items, {});
  auto record = std::make_shared<UserRecord>();
  record->items = last_items(items, static_cast<size_t>(plug_->config().max_history));
  record->embedding = plug_->embed_user(record->items);
  std::lock_guard<std::mutex> lock(store_->user_mutex(id));
  store_->put(id, record);
  const auto n = static_cast<int64_t>(record->items.size());
  return {n, n};
}

HistoryUpdate UserService::append(const std::string& id, const std::vector<HistoryItem>& items) {
  // The lock spans read, encode and write, so two appends to one user cannot lose either.
  std::lock_guard<std::mutex> lock(store_->user_mutex(id));
  const auto old = store_->get(id);
  const std::vector<HistoryItem> none;
  validate(items, old ? old->items : none);
  const auto max_history = static_cast<size_t>(plug_->config().max_history);
  const std::vector<HistoryItem> fresh = last_items(items, max_history);
  auto record = std::make_shared<UserRecord>();
  record->items = old ? old->items : none;
  record->items.insert(record->items.end(), fresh.begin(), fresh.end());
  record->items = last_items(std::move(record->items), max_history);
  const UserEmbedding added = plug_->embed_user(fresh);
  record->embedding =
      old ? old->embedding.appended(added, static_cast<int64_t>(max_history)) : added;
  store_->put(id, record);
  return {static_cast<int64_t>(record->items.size()), static_cast<int64_t>(fresh.size())};
}

}  // namespace pplug::serve
