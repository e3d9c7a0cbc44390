// The validator's type lattice in strict mode; see internal/validator_types.h.
#include "cedar/internal/validator_types.h"

namespace ztgate::cedar::internal {

namespace vtype {
namespace {
VTypePtr make(VType::Kind kind, std::string name = {}) {
  auto t = std::make_shared<VType>();
  t->kind = kind;
  t->name = std::move(name);
  return t;
}
}  // namespace

VTypePtr never() {
  static const VTypePtr t = make(VType::Kind::kNever);
  return t;
}
VTypePtr boolean() {
  static const VTypePtr t = make(VType::Kind::kBool);
  return t;
}
VTypePtr singleton(bool value) {
  static const VTypePtr t = make(VType::Kind::kTrue);
  static const VTypePtr f = make(VType::Kind::kFalse);
  return value ? t : f;
}
VTypePtr long_() {
  static const VTypePtr t = make(VType::Kind::kLong);
  return t;
}
VTypePtr string() {
  static const VTypePtr t = make(VType::Kind::kString);
  return t;
}
VTypePtr any_set() {
  static const VTypePtr t = make(VType::Kind::kSet);
  return t;
}
VTypePtr any_entity() {
  static const VTypePtr t = make(VType::Kind::kAnyEntity);
  return t;
}
VTypePtr any_record() {
  static const VTypePtr t = record({}, /*open=*/true);
  return t;
}
VTypePtr set_of(VTypePtr element) {
  auto t = std::make_shared<VType>();
  t->kind = VType::Kind::kSet;
  t->element = std::move(element);
  return t;
}
VTypePtr entity(std::string name) { return make(VType::Kind::kEntity, std::move(name)); }
VTypePtr action_entity(std::string name) { return make(VType::Kind::kActionEntity, std::move(name)); }
VTypePtr extension(std::string name) { return make(VType::Kind::kExtension, std::move(name)); }
VTypePtr record(VAttrs attrs, bool open) {
  auto t = std::make_shared<VType>();
  t->kind = VType::Kind::kRecord;
  t->attrs = std::move(attrs);
  t->open = open;
  return t;
}
}  // namespace vtype

using K = VType::Kind;

bool is_boolean(const VType& t) {
  return t.kind == K::kTrue || t.kind == K::kFalse || t.kind == K::kBool;
}

bool is_entity_like(const VType& t) {
  return t.kind == K::kEntity || t.kind == K::kActionEntity || t.kind == K::kAnyEntity;
}

namespace {

bool attr_subtype(const VAttr& a, const VAttr& b, bool permissive) {
  bool qualifier_ok = permissive ? (a.required || !b.required) : a.required == b.required;
  return qualifier_ok && is_subtype(*a.type, *b.type, permissive);
}

// Every attribute of `b` is in `a` with a subtype.
bool attrs_subtype(const VAttrs& a, const VAttrs& b, bool permissive) {
  for (const auto& [name, bt] : b) {
    auto it = a.find(name);
    if (it == a.end() || !attr_subtype(it->second, bt, permissive)) return false;
  }
  return true;
}

bool same_keys(const VAttrs& a, const VAttrs& b) {
  if (a.size() != b.size()) return false;
  for (auto ia = a.begin(), ib = b.begin(); ia != a.end(); ++ia, ++ib)
    if (ia->first != ib->first) return false;
  return true;
}

}  // namespace

bool is_subtype(const VType& a, const VType& b, bool permissive) {
  if (a.kind == K::kNever) return true;
  switch (b.kind) {
    case K::kBool:
      return is_boolean(a);
    case K::kTrue:
    case K::kFalse:
    case K::kLong:
    case K::kString:
    case K::kNever:
      return a.kind == b.kind;
    case K::kExtension:
      return a.kind == K::kExtension && a.name == b.name;
    case K::kSet:
      if (a.kind != K::kSet) return false;
      if (!b.element) return true;
      if (!a.element) return false;
      return is_subtype(*a.element, *b.element, permissive);
    case K::kRecord:
      if (a.kind != K::kRecord) return false;
      // A closed record is a subtype of an open one, never the reverse. Width
      // subtyping (extra attributes) only towards an open record and only when
      // permissive; otherwise the attribute names must match exactly.
      if (a.open && !b.open) return false;
      if (b.open && permissive && attrs_subtype(a.attrs, b.attrs, permissive)) return true;
      return same_keys(a.attrs, b.attrs) && attrs_subtype(a.attrs, b.attrs, permissive);
    case K::kEntity:
      return a.kind == K::kEntity && a.name == b.name;
    case K::kActionEntity:
      return a.kind == K::kActionEntity && a.name == b.name;
    case K::kAnyEntity:
      if (a.kind == K::kAnyEntity) return true;
      return permissive && (a.kind == K::kEntity || a.kind == K::kActionEntity);
  }
  return false;
}

std::optional<VTypePtr> least_upper_bound(const VTypePtr& a, const VTypePtr& b) {
  if (is_subtype(*a, *b, false)) return b;
  if (is_subtype(*b, *a, false)) return a;
  if (is_boolean(*a) && is_boolean(*b)) return vtype::boolean();
  if (a->kind == K::kSet && b->kind == K::kSet) {
    if (!a->element || !b->element) return vtype::any_set();
    auto elem = least_upper_bound(a->element, b->element);
    if (!elem) return std::nullopt;
    return vtype::set_of(*elem);
  }
  if (a->kind == K::kRecord && b->kind == K::kRecord) {
    // Strict: the same attribute names, each with a bound and the same
    // required/optional qualifier.
    if (!same_keys(a->attrs, b->attrs)) return std::nullopt;
    VAttrs attrs;
    for (auto ia = a->attrs.begin(), ib = b->attrs.begin(); ia != a->attrs.end(); ++ia, ++ib) {
      if (ia->second.required != ib->second.required) return std::nullopt;
      auto t = least_upper_bound(ia->second.type, ib->second.type);
      if (!t) return std::nullopt;
      attrs.emplace(ia->first, VAttr{*t, ia->second.required});
    }
    return vtype::record(std::move(attrs), a->open || b->open);
  }
  return std::nullopt;
}

bool are_disjoint(const VType& a, const VType& b) {
  bool a_named = a.kind == K::kEntity || a.kind == K::kActionEntity;
  bool b_named = b.kind == K::kEntity || b.kind == K::kActionEntity;
  return a_named && b_named && a.name != b.name;
}

std::string to_string(const VType& t) {
  switch (t.kind) {
    case K::kNever: return "Never";
    case K::kTrue: return "True";
    case K::kFalse: return "False";
    case K::kBool: return "Bool";
    case K::kLong: return "Long";
    case K::kString: return "String";
    case K::kSet: return t.element ? "Set<" + to_string(*t.element) + ">" : "Set";
    case K::kRecord: {
      std::string out = "{";
      bool first = true;
      for (const auto& [name, attr] : t.attrs) {
        out += first ? "" : ", ";
        first = false;
        out += name + (attr.required ? ": " : "?: ") + to_string(*attr.type);
      }
      return out + "}";
    }
    case K::kEntity:
    case K::kActionEntity:
    case K::kExtension:
      return t.name;
    case K::kAnyEntity: return "entity";
  }
  return "?";
}

}  // namespace ztgate::cedar::internal
