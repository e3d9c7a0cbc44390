// Turns a RawSchema (names as written) into a Schema (names fully
// qualified, common types inlined), enforcing the schema's static rules.
//
// Name resolution follows Cedar (RFC 24, RFC 70): a name written without a
// namespace inside namespace NS may mean NS::X or X in the empty namespace,
// tried in that order; at each candidate a common type beats an entity type.
// Primitive and extension types are common types in the reserved `__cedar`
// namespace, aliased into the empty namespace unless the user declared a
// type of the same name there.
#include <algorithm>
#include <array>
#include <functional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "cedar/internal/schema_raw.h"

namespace ztgate::cedar::internal {
namespace {

constexpr int kMaxTypeDepth = 256;
constexpr std::string_view kCedarPrefix = "__cedar::";

constexpr std::array<std::string_view, 3> kPrimitiveNames = {"Bool", "Long", "String"};
constexpr std::array<std::string_view, 4> kExtensionNames = {"ipaddr", "decimal", "datetime",
                                                             "duration"};

std::string qualify(std::string_view ns, std::string_view name) {
  if (ns.empty()) return std::string(name);
  std::string out(ns);
  out += "::";
  out += name;
  return out;
}

bool is_qualified(std::string_view name) { return name.find("::") != std::string_view::npos; }

std::string_view basename(std::string_view name) {
  size_t p = name.rfind("::");
  return p == std::string_view::npos ? name : name.substr(p + 2);
}

bool is_builtin_name(std::string_view name) {
  return std::find(kPrimitiveNames.begin(), kPrimitiveNames.end(), name) != kPrimitiveNames.end() ||
         is_extension_type_name(name);
}

bool has_reserved_component(std::string_view name) {
  size_t start = 0;
  while (true) {
    size_t p = name.find("::", start);
    if (name.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start) ==
        "__cedar")
      return true;
    if (p == std::string_view::npos) return false;
    start = p + 2;
  }
}

SchemaTypePtr make_primitive(SchemaType::Kind kind, std::string name = {}) {
  auto t = std::make_shared<SchemaType>();
  t->kind = kind;
  t->name = std::move(name);
  return t;
}

// A common-type definition, with the namespace its references resolve in.
struct CommonDef {
  const RawType* type;
  std::string ns;
  SourceLoc loc;
};

class Resolver {
 public:
  explicit Resolver(const RawSchema& raw) : raw_(raw) {}

  Result<Schema> run() {
    if (auto s = collect_definitions(); !s) return s.error();
    if (auto s = check_shadowing(); !s) return s.error();
    add_builtin_aliases();
    Schema schema;
    for (const auto& ns : raw_.namespaces) {
      for (const auto& e : ns.entity_types) {
        auto def = resolve_entity_type(ns.name, e);
        if (!def) return def.error();
        schema.entity_types.emplace(def->name, std::move(*def));
      }
    }
    for (const auto& ns : raw_.namespaces) {
      for (const auto& a : ns.actions) {
        auto def = resolve_action(ns.name, a);
        if (!def) return def.error();
        schema.actions.emplace(def->uid, std::move(*def));
      }
    }
    // Common types are checked even when unused: an undefined name or a
    // cycle in one is an error like anywhere else.
    for (const auto& [name, def] : common_defs_) {
      if (auto t = resolve_common(name, 0); !t) return t.error();
    }
    if (auto s = check_action_cycles(schema); !s) return s.error();
    return schema;
  }

 private:
  Status collect_definitions() {
    std::set<std::string> namespaces;
    for (const auto& ns : raw_.namespaces) {
      if (!namespaces.insert(ns.name).second)
        return make_error("schema_error", "duplicate declaration of namespace `" + ns.name + "`",
                          ns.loc);
      if (has_reserved_component(ns.name))
        return make_error("schema_error",
                          "namespace `" + ns.name + "` uses the reserved name `__cedar`", ns.loc);
      for (const auto& e : ns.entity_types) {
        if (auto s = check_declared_name(e.name, "entity type", e.loc); !s) return s;
        // `Action` names the action entity type of every namespace.
        if (e.name == "Action")
          return make_error("schema_error",
                            "an entity type cannot be named `Action`; declare actions with `action`",
                            e.loc);
        std::string full = qualify(ns.name, e.name);
        if (!entity_defs_.insert(full).second)
          return make_error("schema_error", "duplicate declaration of entity type `" + full + "`",
                            e.loc);
      }
      for (const auto& c : ns.common_types) {
        if (auto s = check_declared_name(c.name, "common type", c.loc); !s) return s;
        if (is_reserved_common_type_name(c.name))
          return make_error("schema_error",
                            "`" + c.name + "` is a reserved keyword and cannot name a common type",
                            c.loc);
        std::string full = qualify(ns.name, c.name);
        if (!common_defs_.emplace(full, CommonDef{&c.type, ns.name, c.loc}).second)
          return make_error("schema_error", "duplicate declaration of common type `" + full + "`",
                            c.loc);
      }
      for (const auto& a : ns.actions) {
        EntityUID uid{qualify(ns.name, "Action"), a.id};
        if (!action_defs_.insert(uid).second)
          return make_error("schema_error",
                            "duplicate declaration of action " + to_display(uid), a.loc);
      }
    }
    return Ok{};
  }

  static Status check_declared_name(std::string_view name, std::string_view what, SourceLoc loc) {
    if (name == "__cedar")
      return make_error("schema_error",
                        std::string(what) + " cannot be named with the reserved name `__cedar`",
                        loc);
    return Ok{};
  }

  // RFC 70: a declaration in a named namespace may not shadow a declaration
  // of the same basename in the empty namespace.
  Status check_shadowing() const {
    std::vector<std::pair<std::string, SourceLoc>> qualified_types;
    std::set<std::string> empty_ns_types;
    for (const auto& ns : raw_.namespaces) {
      for (const auto& e : ns.entity_types) {
        if (ns.name.empty()) empty_ns_types.insert(e.name);
        else qualified_types.emplace_back(qualify(ns.name, e.name), e.loc);
      }
      for (const auto& c : ns.common_types) {
        if (ns.name.empty()) empty_ns_types.insert(c.name);
        else qualified_types.emplace_back(qualify(ns.name, c.name), c.loc);
      }
    }
    for (const auto& [name, loc] : qualified_types) {
      if (empty_ns_types.count(std::string(basename(name))))
        return make_error("schema_error",
                          "definition of `" + name + "` shadows the declaration of `" +
                              std::string(basename(name)) + "` in the empty namespace",
                          loc);
    }
    for (const auto& uid : action_defs_) {
      if (uid.type == "Action") continue;
      if (action_defs_.count(EntityUID{"Action", uid.id}))
        return make_error("schema_error", "definition of " + to_display(uid) +
                                              " shadows the declaration of " +
                                              to_display(EntityUID{"Action", uid.id}) +
                                              " in the empty namespace");
    }
    return Ok{};
  }

  void add_builtin_aliases() {
    for (auto name : kPrimitiveNames) add_alias_if_free(name);
    for (auto name : kExtensionNames) add_alias_if_free(name);
  }

  void add_alias_if_free(std::string_view name) {
    std::string n(name);
    if (!entity_defs_.count(n) && !common_defs_.count(n)) builtin_aliases_.insert(n);
  }

  // --- name resolution -----------------------------------------------------

  // The fully qualified candidates for `name` written in namespace `ns`.
  static std::vector<std::string> candidates(std::string_view ns, std::string_view name) {
    if (is_qualified(name) || ns.empty()) return {std::string(name)};
    return {qualify(ns, name), std::string(name)};
  }

  bool is_common(const std::string& full) const {
    if (common_defs_.count(full) || builtin_aliases_.count(full)) return true;
    if (full.rfind(kCedarPrefix, 0) == 0) return is_builtin_name(full.substr(kCedarPrefix.size()));
    return false;
  }

  Result<SchemaTypePtr> resolve_named(std::string_view ns, const RawType& t, int depth) {
    for (const auto& c : candidates(ns, t.name)) {
      if (t.ref != RefKind::kEntity && is_common(c)) return resolve_common(c, depth + 1);
      if (t.ref != RefKind::kCommon && entity_defs_.count(c))
        return make_primitive(SchemaType::Kind::kEntity, c);
    }
    std::string what = t.ref == RefKind::kCommon   ? "a common type"
                       : t.ref == RefKind::kEntity ? "an entity type"
                                                   : "a common or entity type";
    return make_error("schema_error",
                      "`" + t.name + "` has not been declared as " + what +
                          (ns.empty() || is_qualified(t.name) ? "" : " (looked in `" +
                                                                         std::string(ns) +
                                                                         "` and the empty namespace)"),
                      t.loc);
  }

  Result<SchemaTypePtr> resolve_common(const std::string& full, int depth) {
    if (depth > kMaxTypeDepth)
      return make_error("schema_error", "type definitions nest too deeply at `" + full + "`");
    std::string builtin = full.rfind(kCedarPrefix, 0) == 0 ? full.substr(kCedarPrefix.size())
                          : builtin_aliases_.count(full) ? full
                                                         : std::string();
    if (!builtin.empty()) {
      if (builtin == "Bool") return make_primitive(SchemaType::Kind::kBool);
      if (builtin == "Long") return make_primitive(SchemaType::Kind::kLong);
      if (builtin == "String") return make_primitive(SchemaType::Kind::kString);
      return make_primitive(SchemaType::Kind::kExtension, builtin);
    }
    if (auto it = resolved_common_.find(full); it != resolved_common_.end()) return it->second;
    const CommonDef& def = common_defs_.at(full);
    if (!in_progress_.insert(full).second)
      return make_error("schema_error", "cycle in common type definitions involving `" + full + "`",
                        def.loc);
    auto t = resolve_type(def.ns, *def.type, depth + 1);
    in_progress_.erase(full);
    if (!t) return t.error();
    resolved_common_.emplace(full, *t);
    return *t;
  }

  Result<SchemaTypePtr> resolve_type(std::string_view ns, const RawType& t, int depth) {
    if (depth > kMaxTypeDepth)
      return make_error("schema_error", "types nest too deeply", t.loc);
    switch (t.kind) {
      case RawType::Kind::kNamed:
        return resolve_named(ns, t, depth);
      case RawType::Kind::kBool:
        return make_primitive(SchemaType::Kind::kBool);
      case RawType::Kind::kLong:
        return make_primitive(SchemaType::Kind::kLong);
      case RawType::Kind::kString:
        return make_primitive(SchemaType::Kind::kString);
      case RawType::Kind::kExtension:
        if (!is_extension_type_name(t.name))
          return make_error("schema_error", "unknown extension type `" + t.name + "`", t.loc);
        return make_primitive(SchemaType::Kind::kExtension, t.name);
      case RawType::Kind::kSet: {
        auto elem = resolve_type(ns, *t.element, depth + 1);
        if (!elem) return elem.error();
        auto out = std::make_shared<SchemaType>();
        out->kind = SchemaType::Kind::kSet;
        out->element = std::move(*elem);
        return SchemaTypePtr(out);
      }
      case RawType::Kind::kRecord: {
        auto out = std::make_shared<SchemaType>();
        out->kind = SchemaType::Kind::kRecord;
        out->open_attributes = t.open_attributes;
        for (const auto& a : t.attributes) {
          auto at = resolve_type(ns, a.type, depth + 1);
          if (!at) return at.error();
          out->attributes.insert_or_assign(a.name, AttributeType{*at, a.required});
        }
        return SchemaTypePtr(out);
      }
    }
    return make_error("schema_error", "unsupported type", t.loc);
  }

  Result<std::string> resolve_entity_name(std::string_view ns, const RawType& t) {
    RawType as_entity = t;
    as_entity.ref = RefKind::kEntity;
    auto r = resolve_named(ns, as_entity, 0);
    if (!r) return r.error();
    return (*r)->name;
  }

  Result<SchemaTypePtr> resolve_record(std::string_view ns, const std::optional<RawType>& t,
                                       std::string_view what) {
    if (!t) return make_primitive(SchemaType::Kind::kRecord);
    auto r = resolve_type(ns, *t, 0);
    if (!r) return r.error();
    if ((*r)->kind != SchemaType::Kind::kRecord)
      return make_error("schema_error", std::string(what) + " must be a record type", t->loc);
    return r;
  }

  Result<EntityTypeDef> resolve_entity_type(const std::string& ns, const RawEntityType& e) {
    EntityTypeDef def;
    def.name = qualify(ns, e.name);
    def.loc = e.loc;
    def.enum_ids = e.enum_ids;
    def.annotations = e.annotations;
    if (e.enum_ids && (e.shape || e.tags || !e.parents.empty()))
      return make_error("schema_error",
                        "enumerated entity type `" + def.name +
                            "` cannot have parents, attributes or tags",
                        e.loc);
    if (e.enum_ids && e.enum_ids->empty())
      return make_error("schema_error",
                        "enumerated entity type `" + def.name + "` needs at least one id", e.loc);
    for (const auto& p : e.parents) {
      auto name = resolve_entity_name(ns, p);
      if (!name) return name.error();
      if (std::find(def.member_of_types.begin(), def.member_of_types.end(), *name) ==
          def.member_of_types.end())
        def.member_of_types.push_back(std::move(*name));
    }
    auto shape = resolve_record(ns, e.shape, "the shape of entity type `" + def.name + "`");
    if (!shape) return shape.error();
    def.attributes = (*shape)->attributes;
    if (e.tags) {
      auto tags = resolve_type(ns, *e.tags, 0);
      if (!tags) return tags.error();
      def.tags = std::move(*tags);
    }
    return def;
  }

  Result<ActionDef> resolve_action(const std::string& ns, const RawAction& a) {
    ActionDef def;
    def.uid = EntityUID{qualify(ns, "Action"), a.id};
    def.loc = a.loc;
    def.annotations = a.annotations;
    for (const auto& p : a.parents) {
      auto uid = resolve_action_ref(ns, p);
      if (!uid) return uid.error();
      if (std::find(def.member_of.begin(), def.member_of.end(), *uid) == def.member_of.end())
        def.member_of.push_back(std::move(*uid));
    }
    for (const auto& t : a.principal_types) {
      auto name = resolve_entity_name(ns, t);
      if (!name) return name.error();
      if (std::find(def.principal_types.begin(), def.principal_types.end(), *name) ==
          def.principal_types.end())
        def.principal_types.push_back(std::move(*name));
    }
    for (const auto& t : a.resource_types) {
      auto name = resolve_entity_name(ns, t);
      if (!name) return name.error();
      if (std::find(def.resource_types.begin(), def.resource_types.end(), *name) ==
          def.resource_types.end())
        def.resource_types.push_back(std::move(*name));
    }
    auto ctx = resolve_record(ns, a.context, "the context of action " + to_display(def.uid));
    if (!ctx) return ctx.error();
    def.context = std::move(*ctx);
    return def;
  }

  Result<EntityUID> resolve_action_ref(std::string_view ns, const RawActionRef& r) const {
    std::string type = r.type.value_or("Action");
    for (const auto& c : candidates(ns, type)) {
      EntityUID uid{c, r.id};
      if (action_defs_.count(uid)) return uid;
    }
    return make_error("schema_error",
                      "undeclared action " + to_display(EntityUID{type, r.id}) +
                          " in an action group",
                      r.loc);
  }

  static Status check_action_cycles(const Schema& schema) {
    // Depth-first search with colors; iterative to bound stack use.
    std::map<EntityUID, int> color;  // 0 white, 1 grey, 2 black
    for (const auto& [start, unused] : schema.actions) {
      if (color[start] != 0) continue;
      std::vector<std::pair<const EntityUID*, size_t>> stack{{&start, 0}};
      color[start] = 1;
      while (!stack.empty()) {
        auto& [uid, next] = stack.back();
        const ActionDef& def = schema.actions.at(*uid);
        if (next == def.member_of.size()) {
          color[*uid] = 2;
          stack.pop_back();
          continue;
        }
        const EntityUID& parent = def.member_of[next++];
        int& c = color[parent];
        if (c == 1)
          return make_error("schema_error",
                            "cycle in the action hierarchy involving " + to_display(parent),
                            def.loc);
        if (c == 0) {
          c = 1;
          stack.emplace_back(&schema.actions.find(parent)->first, 0);
        }
      }
    }
    return Ok{};
  }

  static std::string to_display(const EntityUID& uid) { return to_string(uid); }

  const RawSchema& raw_;
  std::set<std::string> entity_defs_;
  std::map<std::string, CommonDef> common_defs_;
  std::set<EntityUID> action_defs_;
  std::set<std::string> builtin_aliases_;
  std::map<std::string, SchemaTypePtr> resolved_common_;
  std::set<std::string> in_progress_;
};

}  // namespace

bool is_reserved_common_type_name(std::string_view name) {
  static constexpr std::array<std::string_view, 8> kReserved = {
      "Bool", "Boolean", "Entity", "Extension", "Long", "Record", "Set", "String"};
  return std::find(kReserved.begin(), kReserved.end(), name) != kReserved.end();
}

bool is_extension_type_name(std::string_view name) {
  return std::find(kExtensionNames.begin(), kExtensionNames.end(), name) != kExtensionNames.end();
}

Result<Schema> resolve_schema(const RawSchema& raw) { return Resolver(raw).run(); }

}  // namespace ztgate::cedar::internal
