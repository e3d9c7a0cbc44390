// Schema lookups and the human-readable printer.
#include "cedar/schema.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace ztgate::cedar {
namespace {

std::string_view namespace_of(std::string_view qualified) {
  size_t p = qualified.rfind("::");
  return p == std::string_view::npos ? std::string_view() : qualified.substr(0, p);
}

std::string_view basename_of(std::string_view qualified) {
  size_t p = qualified.rfind("::");
  return p == std::string_view::npos ? qualified : qualified.substr(p + 2);
}

bool is_plain_identifier(std::string_view s) {
  if (s.empty() || !(s[0] == '_' || std::isalpha(static_cast<unsigned char>(s[0])))) return false;
  for (char c : s)
    if (!(c == '_' || std::isalnum(static_cast<unsigned char>(c)))) return false;
  static constexpr std::string_view kReserved[] = {"true", "false", "if",   "then", "else",
                                                   "in",   "is",    "like", "has"};
  return std::find(std::begin(kReserved), std::end(kReserved), s) == std::end(kReserved);
}

std::string quoted(std::string_view s) { return "\"" + escape_string(s) + "\""; }

// Prints resolved types so that they parse back to the same types: entity
// types fully qualified (a qualified name resolves only to itself; an
// empty-namespace name cannot be shadowed, RFC 70), and primitive or
// extension types through `__cedar::` when an entity type could capture the
// short name.
class SchemaPrinter {
 public:
  explicit SchemaPrinter(const Schema& schema) : schema_(schema) {
    for (const auto& [name, def] : schema.entity_types)
      entity_basenames_.insert(std::string(basename_of(name)));
  }

  std::string print() {
    std::set<std::string> namespaces;
    for (const auto& [name, def] : schema_.entity_types)
      namespaces.insert(std::string(namespace_of(name)));
    for (const auto& [uid, def] : schema_.actions)
      namespaces.insert(std::string(namespace_of(uid.type)));
    std::string out;
    for (const auto& ns : namespaces) {
      std::string indent = ns.empty() ? "" : "  ";
      if (!ns.empty()) out += "namespace " + ns + " {\n";
      for (const auto& [name, def] : schema_.entity_types)
        if (namespace_of(name) == ns) print_entity(out, indent, def);
      for (const auto& [uid, def] : schema_.actions)
        if (namespace_of(uid.type) == ns) print_action(out, indent, def);
      if (!ns.empty()) out += "}\n";
    }
    return out;
  }

 private:
  std::string builtin(std::string_view name) const {
    return entity_basenames_.count(std::string(name)) ? "__cedar::" + std::string(name)
                                                      : std::string(name);
  }

  static void print_annotations(std::string& out, const std::string& indent,
                                const std::map<std::string, std::string>& annotations) {
    for (const auto& [key, value] : annotations) out += indent + "@" + key + "(" + quoted(value) + ")\n";
  }

  void print_type(std::string& out, const SchemaType& t, const std::string& indent) const {
    switch (t.kind) {
      case SchemaType::Kind::kBool: out += builtin("Bool"); return;
      case SchemaType::Kind::kLong: out += builtin("Long"); return;
      case SchemaType::Kind::kString: out += builtin("String"); return;
      case SchemaType::Kind::kExtension: out += builtin(t.name); return;
      case SchemaType::Kind::kEntity: out += t.name; return;
      case SchemaType::Kind::kSet:
        out += "Set<";
        print_type(out, *t.element, indent);
        out += ">";
        return;
      case SchemaType::Kind::kRecord:
        print_record(out, t.attributes, indent);
        return;
    }
  }

  void print_record(std::string& out, const std::map<std::string, AttributeType>& attrs,
                    const std::string& indent) const {
    if (attrs.empty()) {
      out += "{}";
      return;
    }
    out += "{\n";
    std::string inner = indent + "  ";
    size_t i = 0;
    for (const auto& [name, attr] : attrs) {
      out += inner + (is_plain_identifier(name) ? name : quoted(name));
      if (!attr.required) out += "?";
      out += ": ";
      print_type(out, *attr.type, inner);
      out += ++i < attrs.size() ? ",\n" : "\n";
    }
    out += indent + "}";
  }

  void print_entity(std::string& out, const std::string& indent, const EntityTypeDef& def) const {
    print_annotations(out, indent, def.annotations);
    out += indent + "entity " + std::string(basename_of(def.name));
    if (def.enum_ids) {
      out += " enum [";
      for (size_t i = 0; i < def.enum_ids->size(); ++i)
        out += (i ? ", " : "") + quoted((*def.enum_ids)[i]);
      out += "];\n";
      return;
    }
    if (!def.member_of_types.empty()) {
      out += " in [";
      for (size_t i = 0; i < def.member_of_types.size(); ++i)
        out += (i ? ", " : "") + def.member_of_types[i];
      out += "]";
    }
    if (!def.attributes.empty()) {
      out += " = ";
      print_record(out, def.attributes, indent);
    }
    if (def.tags) {
      out += " tags ";
      print_type(out, *def.tags, indent);
    }
    out += ";\n";
  }

  void print_action(std::string& out, const std::string& indent, const ActionDef& def) const {
    print_annotations(out, indent, def.annotations);
    out += indent + "action " + quoted(def.uid.id);
    if (!def.member_of.empty()) {
      out += " in [";
      for (size_t i = 0; i < def.member_of.size(); ++i)
        out += (i ? ", " : "") + def.member_of[i].type + "::" + quoted(def.member_of[i].id);
      out += "]";
    }
    if (!def.principal_types.empty() && !def.resource_types.empty()) {
      std::string inner = indent + "  ";
      out += " appliesTo {\n" + inner + "principal: [";
      for (size_t i = 0; i < def.principal_types.size(); ++i)
        out += (i ? ", " : "") + def.principal_types[i];
      out += "],\n" + inner + "resource: [";
      for (size_t i = 0; i < def.resource_types.size(); ++i)
        out += (i ? ", " : "") + def.resource_types[i];
      out += "],\n" + inner + "context: ";
      if (def.context) print_record(out, def.context->attributes, inner);
      else out += "{}";
      out += "\n" + indent + "}";
    }
    out += ";\n";
  }

  const Schema& schema_;
  std::set<std::string> entity_basenames_;
};

}  // namespace

const EntityTypeDef* Schema::entity_type(std::string_view name) const {
  auto it = entity_types.find(std::string(name));
  return it == entity_types.end() ? nullptr : &it->second;
}

const ActionDef* Schema::action(const EntityUID& uid) const {
  auto it = actions.find(uid);
  return it == actions.end() ? nullptr : &it->second;
}

bool Schema::is_action_type(std::string_view type) const {
  if (basename_of(type) != "Action") return false;
  auto it = actions.lower_bound(EntityUID{std::string(type), std::string()});
  return it != actions.end() && it->first.type == type;
}

std::vector<EntityUID> Schema::action_ancestors(const EntityUID& uid) const {
  std::vector<EntityUID> out;
  std::set<EntityUID> seen;
  std::vector<EntityUID> work;
  if (const ActionDef* a = action(uid)) work = a->member_of;
  while (!work.empty()) {
    EntityUID next = std::move(work.back());
    work.pop_back();
    if (!seen.insert(next).second) continue;
    if (const ActionDef* a = action(next))
      work.insert(work.end(), a->member_of.begin(), a->member_of.end());
    out.push_back(std::move(next));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string format_schema(const Schema& schema) { return SchemaPrinter(schema).print(); }

}  // namespace ztgate::cedar
