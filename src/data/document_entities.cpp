#include "data/document_entities.h"

namespace ztgate::data {
namespace {

cedar::Value uid_set(const char* type, const std::vector<std::string>& ids) {
  cedar::ValueSet s;
  s.reserve(ids.size());
  for (const auto& id : ids) s.emplace_back(cedar::EntityUID{type, id});
  return cedar::Value::set(std::move(s));
}

cedar::Value string_set(const std::vector<std::string>& items) {
  cedar::ValueSet s(items.begin(), items.end());
  return cedar::Value::set(std::move(s));
}

}  // namespace

cedar::Entity document_entity(const DocumentCatalog& catalog, const DocumentRecord& d, int64_t classification) {
  cedar::Entity e;
  e.uid = cedar::EntityUID{"Document", d.id};
  if (!d.owner.empty()) e.attrs.emplace("owner", cedar::EntityUID{"User", d.owner});
  e.attrs.emplace("reader_users", uid_set("User", d.reader_users));
  e.attrs.emplace("reader_groups", uid_set("Group", d.reader_groups));
  e.attrs.emplace("classification", classification);
  e.attrs.emplace("classification_label", catalog.scale().label(classification));
  e.attrs.emplace("tenant", d.tenant);
  e.attrs.emplace("source", d.source);
  e.attrs.emplace("tags", string_set(d.tags));
  e.attrs.emplace("is_chunk", !d.of.empty());
  for (auto& c : catalog.ancestors(d)) e.parents.push_back(cedar::EntityUID{std::string(entity_type(c.kind)), c.id});
  if (!d.of.empty()) e.parents.push_back(cedar::EntityUID{"Document", d.of});
  return e;
}

Result<cedar::Entity> user_entity(const DocumentCatalog& catalog, const std::string& user_id,
                                  const std::vector<std::string>& credential_groups) {
  cedar::Entity e;
  e.uid = cedar::EntityUID{"User", user_id};
  std::vector<std::string> start = credential_groups;
  if (const UserRecord* u = catalog.user(user_id)) {
    start.insert(start.end(), u->groups.begin(), u->groups.end());
    if (u->clearance) e.attrs.emplace("clearance", *u->clearance);
    if (!u->tenant.empty()) e.attrs.emplace("tenant", u->tenant);
  }
  auto groups = catalog.group_closure(std::move(start));
  if (!groups) return groups.error();
  for (auto& g : *groups) e.parents.push_back(cedar::EntityUID{"Group", std::move(g)});
  return e;
}

}  // namespace ztgate::data
