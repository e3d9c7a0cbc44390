// A synthetic organization for retrieval authorization tests: tenants,
// users, groups nested in chains at least kChainDepth deep (and a DAG
// over them), Spaces > Collections > Folders (folders nest), documents
// with mixed ACLs (owner, users, groups), labels, tenants, sources, tags,
// and chunks (documents cut from an earlier one, with a copy of its ACL).
//
// And the oracle: who may read what under the shipped rules
// (examples/retrieval/policies.cedar), computed in plain code over the
// generated data with its own group walk. It shares nothing with ztgate's
// catalog, entities or Cedar evaluation, so an agreement is evidence.
//
// Header-only: the unit oracle (tests/data) and the PostgreSQL oracle
// (tests/integration) both include it.
#pragma once

#include <boost/json.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "data/catalog.h"

// Tests size their organization down under AddressSanitizer (about ten
// times slower), so the suite's ASan run stays affordable.
#if defined(__SANITIZE_ADDRESS__)
#define ZTGATE_SYNTHETIC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ZTGATE_SYNTHETIC_ASAN 1
#endif
#endif

namespace ztgate::data::synthetic {

#ifdef ZTGATE_SYNTHETIC_ASAN
inline constexpr int kScaleDown = 5;
#else
inline constexpr int kScaleDown = 1;
#endif

inline constexpr int kChainDepth = 8;  // groups g<k*8> <- ... <- g<k*8+7>
inline constexpr int64_t kRestricted = 3;
inline const std::vector<std::string> kLabels = {"public", "internal", "confidential", "restricted"};

struct OrgShape {
  int groups = 80;
  int users = 100;
  int spaces = 4;
  int collections = 12;
  int folders = 40;
  int documents = 4000;
  std::vector<std::string> tenants = {"acme", "globex", "initech"};
};

struct Org {
  OrgShape shape;
  std::vector<GroupRecord> groups;
  std::vector<ContainerRecord> containers;
  std::vector<UserRecord> users;
  std::vector<DocumentRecord> documents;
  std::unordered_map<std::string, size_t> user_index;
  std::unordered_map<std::string, size_t> document_index;

  const UserRecord* user(const std::string& id) const {
    auto it = user_index.find(id);
    return it == user_index.end() ? nullptr : &users[it->second];
  }
  const DocumentRecord* document(const std::string& id) const {
    auto it = document_index.find(id);
    return it == document_index.end() ? nullptr : &documents[it->second];
  }

  std::vector<CatalogChange> changes() const {
    std::vector<CatalogChange> out;
    out.reserve(groups.size() + containers.size() + users.size() + documents.size());
    for (const auto& g : groups) out.emplace_back(g);
    for (const auto& c : containers) out.emplace_back(c);
    for (const auto& u : users) out.emplace_back(u);
    for (const auto& d : documents) out.emplace_back(d);
    return out;
  }

  // The same changes as catalog JSON Lines (the format of retrieval.documents).
  std::string jsonl() const {
    namespace json = boost::json;
    auto ref = [](const ContainerRef& r) { return json::object{{"type", entity_type(r.kind)}, {"id", r.id}}; };
    auto strings = [](const std::vector<std::string>& v) {
      json::array a;
      for (const auto& s : v) a.emplace_back(s);
      return a;
    };
    std::string out;
    auto line = [&](const json::object& o) {
      out += json::serialize(o);
      out += '\n';
    };
    for (const auto& g : groups) line({{"kind", "group"}, {"id", g.id}, {"parents", strings(g.parents)}});
    for (const auto& c : containers) {
      json::object o{{"kind", "container"}, {"type", entity_type(c.kind)}, {"id", c.id}};
      if (c.parent) o["parent"] = ref(*c.parent);
      line(o);
    }
    for (const auto& u : users) {
      json::object o{{"kind", "user"}, {"id", u.id}, {"groups", strings(u.groups)}};
      if (u.clearance) o["clearance"] = kLabels[static_cast<size_t>(*u.clearance)];
      if (!u.tenant.empty()) o["tenant"] = u.tenant;
      line(o);
    }
    for (const auto& d : documents) {
      json::array readers;
      for (const auto& u : d.reader_users) readers.emplace_back("user:" + u);
      for (const auto& g : d.reader_groups) readers.emplace_back("group:" + g);
      json::object o{{"kind", "document"}, {"id", d.id}, {"readers", std::move(readers)},
                     {"classification", kLabels[static_cast<size_t>(d.classification)]},
                     {"tenant", d.tenant}, {"source", d.source}, {"tags", strings(d.tags)}};
      if (!d.owner.empty()) o["owner"] = d.owner;
      if (d.parent) o["parent"] = ref(*d.parent);
      if (!d.of.empty()) o["of"] = d.of;
      line(o);
    }
    return out;
  }
};

inline Org generate_org(const OrgShape& shape, uint32_t seed) {
  std::mt19937 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
  auto tenant = [&] { return shape.tenants[static_cast<size_t>(pick(static_cast<int>(shape.tenants.size())))]; };
  Org org;
  org.shape = shape;
  // Groups: chains kChainDepth deep (g0 <- g1 <- ... <- g7, g8 <- ...),
  // and a third of the chain heads also join 1-2 earlier groups (a DAG, so
  // nesting runs deeper still).
  for (int i = 0; i < shape.groups; ++i) {
    GroupRecord g{"g" + std::to_string(i), {}};
    if (i % kChainDepth != 0) {
      g.parents.push_back("g" + std::to_string(i - 1));
    } else if (i > 0 && pick(3) == 0) {
      for (int k = 0, n = 1 + pick(2); k < n; ++k) g.parents.push_back("g" + std::to_string(pick(i)));
    }
    org.groups.push_back(std::move(g));
  }
  // Containers: Spaces > Collections > Folders; a folder sits in a
  // collection or (half the time) in an earlier folder.
  for (int i = 0; i < shape.spaces; ++i)
    org.containers.push_back({ContainerKind::kSpace, "s" + std::to_string(i), std::nullopt});
  for (int i = 0; i < shape.collections; ++i)
    org.containers.push_back({ContainerKind::kCollection, "c" + std::to_string(i),
                              ContainerRef{ContainerKind::kSpace, "s" + std::to_string(pick(shape.spaces))}});
  for (int i = 0; i < shape.folders; ++i) {
    ContainerRef parent{ContainerKind::kCollection, "c" + std::to_string(pick(shape.collections))};
    if (i > 0 && pick(2) == 0) parent = {ContainerKind::kFolder, "f" + std::to_string(pick(i))};
    org.containers.push_back({ContainerKind::kFolder, "f" + std::to_string(i), parent});
  }
  // Users: 0-3 direct groups (a few in many), mostly with clearance and
  // tenant (the rest: the catalog gives them nothing).
  for (int i = 0; i < shape.users; ++i) {
    UserRecord u{"u" + std::to_string(i), {}, std::nullopt, ""};
    int n = pick(20) == 0 ? 20 + pick(40) : pick(4);
    for (int k = 0; k < n; ++k) u.groups.push_back("g" + std::to_string(pick(shape.groups)));
    if (pick(10) > 0) u.clearance = pick(4);
    if (pick(10) > 0) u.tenant = tenant();
    org.user_index[u.id] = org.users.size();
    org.users.push_back(std::move(u));
  }
  // Documents: a fifth are chunks of an earlier document (its ACL, labels
  // and place, as an indexer copies them).
  for (int i = 0; i < shape.documents; ++i) {
    DocumentRecord d;
    if (i > 10 && pick(5) == 0) {
      d = org.documents[static_cast<size_t>(pick(i))];
      d.of = d.of.empty() ? d.id : d.of;
      d.id = d.of + "#" + std::to_string(i);
    } else {
      d.id = "d" + std::to_string(i);
      if (pick(4) > 0) d.owner = "u" + std::to_string(pick(shape.users));
      for (int k = 0, n = pick(3); k < n; ++k) d.reader_users.push_back("u" + std::to_string(pick(shape.users)));
      for (int k = 0, n = pick(4); k < n; ++k) d.reader_groups.push_back("g" + std::to_string(pick(shape.groups)));
      d.classification = pick(4);
      d.tenant = tenant();
      d.source = pick(2) ? "wiki" : "drive";
      d.tags = {"t" + std::to_string(pick(30))};
      d.parent = ContainerRef{ContainerKind::kFolder, "f" + std::to_string(pick(shape.folders))};
    }
    org.document_index[d.id] = org.documents.size();
    org.documents.push_back(std::move(d));
  }
  return org;
}

// The shipped rules in plain code. A user reads a document when it has a
// clearance >= the document's rank and the document's tenant, and it owns
// the document, or the document names it, or one of its groups (walked
// here, transitively) as a reader.
class Oracle {
 public:
  explicit Oracle(const Org& org) : org_(org) {
    for (const auto& g : org.groups) parents_[g.id] = g.parents;
  }

  bool user_may_read(const std::string& user, const DocumentRecord& d, int64_t rank) const {
    const UserRecord* u = org_.user(user);
    if (!u || !u->clearance || u->tenant.empty()) return false;
    if (u->tenant != d.tenant || *u->clearance < rank) return false;
    if (d.owner == user) return true;
    if (std::find(d.reader_users.begin(), d.reader_users.end(), user) != d.reader_users.end()) return true;
    const auto& groups = groups_of(*u);
    return std::any_of(d.reader_groups.begin(), d.reader_groups.end(), [&](const auto& g) { return groups.count(g) > 0; });
  }
  bool user_may_read(const std::string& user, const DocumentRecord& d) const {
    return user_may_read(user, d, d.classification);
  }

  // An agent acting for `user` with a task delegated docs:read (and
  // docs:read:restricted or not): its user's view, without restricted
  // documents unless delegated.
  bool agent_may_read(const std::string& user, const DocumentRecord& d, int64_t rank, bool restricted_scope) const {
    return user_may_read(user, d, rank) && (rank < kRestricted || restricted_scope);
  }

 private:
  const std::unordered_set<std::string>& groups_of(const UserRecord& u) const {
    auto [it, fresh] = closures_.try_emplace(u.id);
    if (!fresh) return it->second;
    std::vector<std::string> pending = u.groups;
    while (!pending.empty()) {
      std::string g = pending.back();
      pending.pop_back();
      if (!it->second.insert(g).second) continue;
      auto p = parents_.find(g);
      if (p != parents_.end()) pending.insert(pending.end(), p->second.begin(), p->second.end());
    }
    return it->second;
  }

  const Org& org_;
  std::map<std::string, std::vector<std::string>> parents_;
  mutable std::unordered_map<std::string, std::unordered_set<std::string>> closures_;
};

}  // namespace ztgate::data::synthetic
