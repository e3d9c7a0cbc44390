// The document catalog: what retrieval authorization knows of documents
// (and chunks), the containers they sit in (Folder / Collection / Space),
// groups and their nesting, and users' groups, clearance and tenant.
//
// A DocumentCatalog is an immutable value. `apply` builds the next version
// from a batch of changes (upserts and deletes) all at once or not at all,
// sharing every untouched part with the previous one (copy-on-write shards:
// an upsert costs one shard, not the catalog). CatalogHolder publishes
// versions atomically: a reader takes one version for a whole call and never
// sees half a batch. The version is part of every retrieval decision's cache
// key (retrieval adapter), so a cached allow never outlives a change.
//
// Everything is bounded (CatalogLimits); ids are opaque strings of at most
// kMaxIdBytes. Parents may dangle (name a container not in the catalog):
// the document is still `in` it, as Cedar allows.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.h"
#include "data/classification.h"
#include "data/internal/sharded_table.h"

namespace ztgate::data {

inline constexpr size_t kMaxIdBytes = 512;
inline constexpr size_t kMaxReaders = 1024;       // per document
inline constexpr size_t kMaxTags = 64;            // per document
inline constexpr size_t kMaxGroupParents = 256;   // per group
inline constexpr size_t kMaxUserGroups = 1024;    // direct groups per user
inline constexpr size_t kMaxClosureGroups = 4096; // a principal's groups, transitively
inline constexpr size_t kMaxContainerDepth = 32;  // containers above a document

struct CatalogLimits {
  size_t max_documents = 50'000'000;
  size_t max_containers = 1'000'000;
  size_t max_groups = 1'000'000;
  size_t max_users = 10'000'000;
};

enum class ContainerKind : uint8_t { kFolder, kCollection, kSpace };
std::string_view entity_type(ContainerKind k);  // "Folder", "Collection", "Space"
std::optional<ContainerKind> container_kind(std::string_view entity_type);

struct ContainerRef {
  ContainerKind kind = ContainerKind::kFolder;
  std::string id;
  friend bool operator==(const ContainerRef&, const ContainerRef&) = default;
};

// A document or a chunk of one (a chunk is a document whose `of` names the
// document it was cut from; it carries its own ACL, usually a copy).
struct DocumentRecord {
  std::string id;
  std::string owner;                       // a user id ("" = none)
  std::vector<std::string> reader_users;   // shared with these users
  std::vector<std::string> reader_groups;  // ... and these groups (and their members, transitively)
  int64_t classification = 0;              // a rank of the catalog's scale
  std::string tenant;
  std::string source;                      // the system it came from
  std::vector<std::string> tags;
  std::optional<ContainerRef> parent;
  std::string of;                          // a chunk's document ("" = a document)
};

struct ContainerRecord {
  ContainerKind kind = ContainerKind::kFolder;
  std::string id;
  std::optional<ContainerRef> parent;
};

struct GroupRecord {
  std::string id;
  std::vector<std::string> parents;  // groups this one is in
};

struct UserRecord {
  std::string id;
  std::vector<std::string> groups;  // direct groups
  std::optional<int64_t> clearance; // a rank; none: the user is cleared for nothing
  std::string tenant;
};

// A delete: what to remove, by kind and id.
struct Removal {
  enum class Kind : uint8_t { kDocument, kContainer, kGroup, kUser } kind = Kind::kDocument;
  ContainerKind container = ContainerKind::kFolder;  // for kContainer
  std::string id;
};

using CatalogChange = std::variant<DocumentRecord, ContainerRecord, GroupRecord, UserRecord, Removal>;

class DocumentCatalog {
 public:
  DocumentCatalog() = default;  // empty, version 0, the default scale
  explicit DocumentCatalog(ClassificationScale scale, CatalogLimits limits = {})
      : scale_(std::move(scale)), limits_(limits) {}

  uint64_t version() const { return version_; }
  const ClassificationScale& scale() const { return scale_; }
  size_t documents() const { return documents_.size(); }

  const DocumentRecord* document(std::string_view id) const { return documents_.find(id); }
  const ContainerRecord* container(ContainerKind kind, std::string_view id) const;
  const GroupRecord* group(std::string_view id) const { return groups_.find(id); }
  const UserRecord* user(std::string_view id) const { return users_.find(id); }

  // `start` and every group above them, transitively: sorted, unique.
  // Errors: "group_limit" beyond kMaxClosureGroups.
  Result<std::vector<std::string>> group_closure(std::vector<std::string> start) const;
  // The containers above a document, nearest first (kMaxContainerDepth at
  // most; a cycle in container parents ends the walk).
  std::vector<ContainerRef> ancestors(const DocumentRecord& d) const;
  // The same walk without copies (the post-filter's): f(ContainerKind,
  // const std::string& id) for each.
  template <class F>
  void for_each_ancestor(const DocumentRecord& d, F&& f) const;

  // The next version with `changes` applied in order, or the first bad
  // change's error ("catalog_change_invalid", "catalog_full") with
  // loc.line = its 1-based index. This catalog is left as it is either way.
  Result<DocumentCatalog> apply(const std::vector<CatalogChange>& changes) const;

 private:
  Status apply_one(const CatalogChange& c);

  ClassificationScale scale_;
  CatalogLimits limits_;
  uint64_t version_ = 0;
  // 4,096 shards: at 1M documents a shard holds ~250, so an upsert copies
  // ~250 records and a scattered batch of 1,000 about a quarter of them.
  internal::ShardedTable<DocumentRecord, 12> documents_;
  internal::ShardedTable<ContainerRecord> containers_;  // key: "<kind>:<id>"
  internal::ShardedTable<GroupRecord> groups_;
  internal::ShardedTable<UserRecord> users_;
};

template <class F>
void DocumentCatalog::for_each_ancestor(const DocumentRecord& d, F&& f) const {
  const ContainerRef* seen[kMaxContainerDepth];
  size_t n = 0;
  const ContainerRef* next = d.parent ? &*d.parent : nullptr;
  while (next && n < kMaxContainerDepth) {
    for (size_t i = 0; i < n; ++i)
      if (*seen[i] == *next) return;  // a cycle
    seen[n++] = next;
    f(next->kind, next->id);
    const ContainerRecord* c = container(next->kind, next->id);
    next = c && c->parent ? &*c->parent : nullptr;
  }
}

// The current catalog, swapped atomically. Readers: current() (no lock).
// Writers are serialized; a failed batch publishes nothing.
class CatalogHolder {
 public:
  explicit CatalogHolder(DocumentCatalog initial)
      : current_(std::make_shared<const DocumentCatalog>(std::move(initial))) {}

  std::shared_ptr<const DocumentCatalog> current() const { return current_.load(std::memory_order_acquire); }
  // Applies a batch; returns the new version.
  Result<uint64_t> apply(const std::vector<CatalogChange>& changes);

 private:
  std::mutex writer_;
  std::atomic<std::shared_ptr<const DocumentCatalog>> current_;
};

}  // namespace ztgate::data
