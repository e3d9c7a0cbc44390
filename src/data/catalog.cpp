#include "data/catalog.h"

#include <algorithm>
#include <set>

namespace ztgate::data {
namespace {

std::string container_key(ContainerKind kind, std::string_view id) {
  std::string key(entity_type(kind));
  key += ':';
  key += id;
  return key;
}

Status check_id(std::string_view what, const std::string& id) {
  if (id.empty() || id.size() > kMaxIdBytes)
    return make_error("catalog_change_invalid", std::string(what) + " id must be 1 to 512 bytes");
  return Ok{};
}

Status check_ids(std::string_view what, const std::vector<std::string>& ids, size_t max) {
  if (ids.size() > max)
    return make_error("catalog_change_invalid", std::string(what) + ": more than " + std::to_string(max));
  for (const auto& id : ids)
    if (auto s = check_id(what, id); !s) return s;
  return Ok{};
}

}  // namespace

std::string_view entity_type(ContainerKind k) {
  switch (k) {
    case ContainerKind::kFolder: return "Folder";
    case ContainerKind::kCollection: return "Collection";
    case ContainerKind::kSpace: return "Space";
  }
  return "Folder";
}

std::optional<ContainerKind> container_kind(std::string_view type) {
  if (type == "Folder") return ContainerKind::kFolder;
  if (type == "Collection") return ContainerKind::kCollection;
  if (type == "Space") return ContainerKind::kSpace;
  return std::nullopt;
}

const ContainerRecord* DocumentCatalog::container(ContainerKind kind, std::string_view id) const {
  return containers_.find(container_key(kind, id));
}

Result<std::vector<std::string>> DocumentCatalog::group_closure(std::vector<std::string> start) const {
  std::set<std::string> seen;
  std::vector<std::string> pending = std::move(start);
  while (!pending.empty()) {
    std::string g = std::move(pending.back());
    pending.pop_back();
    if (seen.count(g)) continue;  // also ends cycles
    if (seen.size() >= kMaxClosureGroups)
      return make_error("group_limit", "the principal is in more than 4096 groups (transitively)");
    if (const GroupRecord* r = groups_.find(g))
      for (const auto& p : r->parents) pending.push_back(p);
    seen.insert(std::move(g));
  }
  return std::vector<std::string>(seen.begin(), seen.end());
}

std::vector<ContainerRef> DocumentCatalog::ancestors(const DocumentRecord& d) const {
  std::vector<ContainerRef> out;
  for_each_ancestor(d, [&](ContainerKind kind, const std::string& id) { out.push_back({kind, id}); });
  return out;
}

Status DocumentCatalog::apply_one(const CatalogChange& change) {
  if (const auto* d = std::get_if<DocumentRecord>(&change)) {
    if (auto s = check_id("document", d->id); !s) return s;
    if (!d->owner.empty())
      if (auto s = check_id("owner", d->owner); !s) return s;
    if (d->reader_users.size() + d->reader_groups.size() > kMaxReaders)
      return make_error("catalog_change_invalid", "readers: more than 1024");
    if (auto s = check_ids("reader", d->reader_users, kMaxReaders); !s) return s;
    if (auto s = check_ids("reader", d->reader_groups, kMaxReaders); !s) return s;
    if (auto s = check_ids("tag", d->tags, kMaxTags); !s) return s;
    if (d->classification < 0 || d->classification >= static_cast<int64_t>(scale_.size()))
      return make_error("catalog_change_invalid", "classification rank out of the scale");
    if (d->tenant.size() > kMaxIdBytes || d->source.size() > kMaxIdBytes || d->of.size() > kMaxIdBytes)
      return make_error("catalog_change_invalid", "tenant, source and of are at most 512 bytes");
    if (d->parent)
      if (auto s = check_id("parent", d->parent->id); !s) return s;
    if (!documents_.find(d->id) && documents_.size() >= limits_.max_documents)
      return make_error("catalog_full", "the catalog holds retrieval.max_documents documents already");
    documents_.put(d->id, *d);
  } else if (const auto* c = std::get_if<ContainerRecord>(&change)) {
    if (auto s = check_id(entity_type(c->kind), c->id); !s) return s;
    if (c->parent)
      if (auto s = check_id("parent", c->parent->id); !s) return s;
    std::string key = container_key(c->kind, c->id);
    if (!containers_.find(key) && containers_.size() >= limits_.max_containers)
      return make_error("catalog_full", "too many containers");
    containers_.put(std::move(key), *c);
  } else if (const auto* g = std::get_if<GroupRecord>(&change)) {
    if (auto s = check_id("group", g->id); !s) return s;
    if (auto s = check_ids("group parent", g->parents, kMaxGroupParents); !s) return s;
    if (!groups_.find(g->id) && groups_.size() >= limits_.max_groups)
      return make_error("catalog_full", "too many groups");
    groups_.put(g->id, *g);
  } else if (const auto* u = std::get_if<UserRecord>(&change)) {
    if (auto s = check_id("user", u->id); !s) return s;
    if (auto s = check_ids("group", u->groups, kMaxUserGroups); !s) return s;
    if (u->clearance && (*u->clearance < 0 || *u->clearance >= static_cast<int64_t>(scale_.size())))
      return make_error("catalog_change_invalid", "clearance rank out of the scale");
    if (u->tenant.size() > kMaxIdBytes) return make_error("catalog_change_invalid", "tenant is at most 512 bytes");
    if (!users_.find(u->id) && users_.size() >= limits_.max_users)
      return make_error("catalog_full", "too many users");
    users_.put(u->id, *u);
  } else {
    const auto& r = std::get<Removal>(change);
    // Deleting what is not there is not an error: deletes are idempotent,
    // so a sync can replay them.
    switch (r.kind) {
      case Removal::Kind::kDocument: documents_.erase(r.id); break;
      case Removal::Kind::kContainer: containers_.erase(container_key(r.container, r.id)); break;
      case Removal::Kind::kGroup: groups_.erase(r.id); break;
      case Removal::Kind::kUser: users_.erase(r.id); break;
    }
  }
  return Ok{};
}

Result<DocumentCatalog> DocumentCatalog::apply(const std::vector<CatalogChange>& changes) const {
  DocumentCatalog next = *this;  // shares every shard
  for (size_t i = 0; i < changes.size(); ++i) {
    if (auto s = next.apply_one(changes[i]); !s) {
      Error e = s.error();
      e.loc = SourceLoc{static_cast<int>(i) + 1, 0};
      return e;
    }
  }
  next.version_ = version_ + 1;
  return next;
}

Result<uint64_t> CatalogHolder::apply(const std::vector<CatalogChange>& changes) {
  std::lock_guard lock(writer_);
  auto next = current()->apply(changes);
  if (!next) return next.error();
  uint64_t v = next->version();
  current_.store(std::make_shared<const DocumentCatalog>(std::move(*next)), std::memory_order_release);
  return v;
}

}  // namespace ztgate::data
