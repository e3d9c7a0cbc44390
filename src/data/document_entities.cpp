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
  // Inserted in key order at the end (a hint, no search): this runs once
  // per candidate on the post-filter's miss path.
  auto& a = e.attrs;
  a.emplace_hint(a.end(), "classification", classification);
  a.emplace_hint(a.end(), "classification_label", catalog.scale().label(classification));
  a.emplace_hint(a.end(), "is_chunk", !d.of.empty());
  if (!d.owner.empty()) a.emplace_hint(a.end(), "owner", cedar::EntityUID{"User", d.owner});
  a.emplace_hint(a.end(), "reader_groups", uid_set("Group", d.reader_groups));
  a.emplace_hint(a.end(), "reader_users", uid_set("User", d.reader_users));
  a.emplace_hint(a.end(), "source", d.source);
  a.emplace_hint(a.end(), "tags", string_set(d.tags));
  a.emplace_hint(a.end(), "tenant", d.tenant);
  catalog.for_each_ancestor(d, [&](ContainerKind kind, const std::string& id) {
    e.parents.push_back(cedar::EntityUID{std::string(entity_type(kind)), id});
  });
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
