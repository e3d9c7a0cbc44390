// The JSON schema format:
//
//   { "<namespace>": { "entityTypes": {..}, "actions": {..}, "commonTypes": {..},
//                      "annotations": {..} }, ... }       ("" is the empty namespace)
//   entity type: { "memberOfTypes": [name..], "shape": Type, "tags": Type,
//                  "enum": [string..], "annotations": {..} }
//   action:      { "memberOf": [{"id": .., "type": ..}], "appliesTo":
//                  {"principalTypes": [..], "resourceTypes": [..], "context": Type},
//                  "annotations": {..} }
//   Type:        {"type": "String" | "Long" | "Boolean"}
//                {"type": "Set", "element": Type}
//                {"type": "Record", "attributes": {name: Type + "required"?}}
//                {"type": "Entity" | "EntityOrCommon" | "Extension", "name": ..}
//                {"type": "<common type name>"}
//
// Unknown keys are errors, as in the reference implementation. Errors name
// the JSON path of the offending value (or line:column for syntax errors).
#include <boost/json.hpp>

#include <cctype>
#include <initializer_list>
#include <optional>
#include <string>

#include "cedar/internal/schema_raw.h"
#include "cedar/limits.h"
#include "cedar/schema.h"

namespace ztgate::cedar {
namespace {

namespace json = boost::json;
using internal::Annotations;
using internal::RawAction;
using internal::RawActionRef;
using internal::RawAttr;
using internal::RawCommonType;
using internal::RawEntityType;
using internal::RawNamespace;
using internal::RawSchema;
using internal::RawType;
using internal::RefKind;

constexpr int kMaxNesting = 64;

// Identifier syntax, reserved words included (annotation names may be `if`).
bool is_any_ident(std::string_view s) {
  if (s.empty() || !(s[0] == '_' || std::isalpha(static_cast<unsigned char>(s[0])))) return false;
  for (char c : s)
    if (!(c == '_' || std::isalnum(static_cast<unsigned char>(c)))) return false;
  return true;
}

bool is_ident(std::string_view s) {
  if (!is_any_ident(s)) return false;
  static constexpr std::string_view kReserved[] = {"true", "false", "if",   "then", "else",
                                                   "in",   "is",    "like", "has"};
  for (auto r : kReserved)
    if (s == r) return false;
  return true;
}

bool is_path(std::string_view s) {
  size_t start = 0;
  while (true) {
    size_t p = s.find("::", start);
    if (!is_ident(s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start)))
      return false;
    if (p == std::string_view::npos) return true;
    start = p + 2;
  }
}

SourceLoc loc_of_offset(std::string_view text, size_t offset) {
  SourceLoc loc{1, 1};
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++loc.line;
      loc.column = 1;
    } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      ++loc.column;
    }
  }
  return loc;
}

class Reader {
 public:
  Result<RawSchema> run(const json::value& root) {
    RawSchema schema;
    const json::object* obj = root.if_object();
    if (!obj) return error("", "a schema must be a JSON object of namespaces");
    for (const auto& [key, value] : *obj) {
      RawNamespace ns;
      ns.name = std::string(key);
      if (!ns.name.empty() && !is_path(ns.name))
        return error("", "`" + ns.name + "` is not a valid namespace name");
      if (!read_namespace(ns.name.empty() ? "\"\"" : ns.name, value, ns)) return *err_;
      schema.namespaces.push_back(std::move(ns));
    }
    return schema;
  }

 private:
  Error error(const std::string& path, std::string message) {
    return make_error("parse_error", path.empty() ? message : "at " + path + ": " + message);
  }
  bool fail(const std::string& path, std::string message) {
    if (!err_) err_ = error(path, std::move(message));
    return false;
  }

  const json::object* object_at(const std::string& path, const json::value& v) {
    const json::object* o = v.if_object();
    if (!o) fail(path, "expected a JSON object");
    return o;
  }

  bool only_keys(const std::string& path, const json::object& o,
                 std::initializer_list<std::string_view> allowed) {
    for (const auto& [key, unused] : o) {
      bool ok = false;
      for (auto a : allowed) ok = ok || key == a;
      if (!ok) return fail(path, "unknown field `" + std::string(key) + "`");
    }
    return true;
  }

  bool read_string(const std::string& path, const json::value& v, std::string& out) {
    const json::string* s = v.if_string();
    if (!s) return fail(path, "expected a string");
    out = std::string(*s);
    return true;
  }

  bool read_annotations(const std::string& path, const json::object& o, Annotations& out) {
    const json::value* v = o.if_contains("annotations");
    if (!v) return true;
    const json::object* a = object_at(path + ".annotations", *v);
    if (!a) return false;
    for (const auto& [key, value] : *a) {
      if (!is_any_ident(key))
        return fail(path + ".annotations", "`" + std::string(key) + "` is not a valid annotation name");
      std::string s;
      if (!read_string(path + ".annotations." + std::string(key), value, s)) return false;
      out.emplace(std::string(key), std::move(s));
    }
    return true;
  }

  bool read_namespace(const std::string& path, const json::value& v, RawNamespace& ns) {
    const json::object* o = object_at(path, v);
    if (!o) return false;
    if (!only_keys(path, *o, {"entityTypes", "actions", "commonTypes", "annotations"})) return false;
    if (!read_annotations(path, *o, ns.annotations)) return false;
    if (const json::value* et = o->if_contains("entityTypes")) {
      const json::object* ets = object_at(path + ".entityTypes", *et);
      if (!ets) return false;
      for (const auto& [name, def] : *ets) {
        RawEntityType e;
        e.name = std::string(name);
        std::string p = path + ".entityTypes." + e.name;
        if (!is_ident(e.name) || e.name.find("::") != std::string::npos)
          return fail(p, "`" + e.name + "` is not a valid entity type name");
        if (!read_entity_type(p, def, e)) return false;
        ns.entity_types.push_back(std::move(e));
      }
    }
    if (const json::value* as = o->if_contains("actions")) {
      const json::object* actions = object_at(path + ".actions", *as);
      if (!actions) return false;
      for (const auto& [id, def] : *actions) {
        RawAction a;
        a.id = std::string(id);
        if (!read_action(path + ".actions." + a.id, def, a)) return false;
        ns.actions.push_back(std::move(a));
      }
    }
    if (const json::value* cs = o->if_contains("commonTypes")) {
      const json::object* commons = object_at(path + ".commonTypes", *cs);
      if (!commons) return false;
      for (const auto& [name, def] : *commons) {
        RawCommonType c;
        c.name = std::string(name);
        std::string p = path + ".commonTypes." + c.name;
        if (!is_ident(c.name)) return fail(p, "`" + c.name + "` is not a valid common type name");
        if (!read_type(p, def, c.type, 0, TypeSite::kCommonType)) return false;
        if (const json::object* co = def.if_object(); co && !read_annotations(p, *co, c.annotations))
          return false;
        ns.common_types.push_back(std::move(c));
      }
    }
    return true;
  }

  bool read_name_list(const std::string& path, const json::value& v, std::vector<RawType>& out) {
    const json::array* arr = v.if_array();
    if (!arr) return fail(path, "expected an array of entity type names");
    for (size_t i = 0; i < arr->size(); ++i) {
      RawType t;
      t.ref = RefKind::kEntity;
      std::string p = path + "[" + std::to_string(i) + "]";
      if (!read_string(p, (*arr)[i], t.name)) return false;
      if (!is_path(t.name)) return fail(p, "`" + t.name + "` is not a valid entity type name");
      out.push_back(std::move(t));
    }
    return true;
  }

  bool read_entity_type(const std::string& path, const json::value& v, RawEntityType& e) {
    const json::object* o = object_at(path, v);
    if (!o) return false;
    if (!only_keys(path, *o, {"memberOfTypes", "shape", "tags", "enum", "annotations"}))
      return false;
    if (!read_annotations(path, *o, e.annotations)) return false;
    if (const json::value* m = o->if_contains("memberOfTypes"))
      if (!read_name_list(path + ".memberOfTypes", *m, e.parents)) return false;
    if (const json::value* s = o->if_contains("shape")) {
      RawType shape;
      if (!read_type(path + ".shape", *s, shape, 0, TypeSite::kShape)) return false;
      e.shape = std::move(shape);
    }
    if (const json::value* t = o->if_contains("tags")) {
      RawType tags;
      if (!read_type(path + ".tags", *t, tags, 0, TypeSite::kPlain)) return false;
      e.tags = std::move(tags);
    }
    if (const json::value* en = o->if_contains("enum")) {
      const json::array* arr = en->if_array();
      if (!arr) return fail(path + ".enum", "expected an array of strings");
      e.enum_ids.emplace();
      for (size_t i = 0; i < arr->size(); ++i) {
        std::string id;
        if (!read_string(path + ".enum[" + std::to_string(i) + "]", (*arr)[i], id)) return false;
        e.enum_ids->push_back(std::move(id));
      }
    }
    return true;
  }

  bool read_action(const std::string& path, const json::value& v, RawAction& a) {
    const json::object* o = object_at(path, v);
    if (!o) return false;
    if (!only_keys(path, *o, {"memberOf", "appliesTo", "attributes", "annotations"})) return false;
    if (!read_annotations(path, *o, a.annotations)) return false;
    if (const json::value* attrs = o->if_contains("attributes")) {
      const json::object* ao = attrs->if_object();
      if (!attrs->is_null() && !(ao && ao->empty()))
        return fail(path + ".attributes", "action attributes are not supported");
    }
    if (const json::value* m = o->if_contains("memberOf")) {
      const json::array* arr = m->if_array();
      if (!arr) return fail(path + ".memberOf", "expected an array of action references");
      for (size_t i = 0; i < arr->size(); ++i) {
        std::string p = path + ".memberOf[" + std::to_string(i) + "]";
        const json::object* ro = object_at(p, (*arr)[i]);
        if (!ro || !only_keys(p, *ro, {"id", "type"})) return false;
        RawActionRef ref;
        const json::value* id = ro->if_contains("id");
        if (!id) return fail(p, "missing field `id`");
        if (!read_string(p + ".id", *id, ref.id)) return false;
        if (const json::value* t = ro->if_contains("type")) {
          std::string type;
          if (!read_string(p + ".type", *t, type)) return false;
          if (!is_path(type)) return fail(p + ".type", "`" + type + "` is not a valid type name");
          ref.type = std::move(type);
        }
        a.parents.push_back(std::move(ref));
      }
    }
    if (const json::value* ap = o->if_contains("appliesTo"); ap && !ap->is_null()) {
      std::string p = path + ".appliesTo";
      const json::object* ao = object_at(p, *ap);
      if (!ao || !only_keys(p, *ao, {"principalTypes", "resourceTypes", "context"})) return false;
      if (const json::value* pt = ao->if_contains("principalTypes"))
        if (!read_name_list(p + ".principalTypes", *pt, a.principal_types)) return false;
      if (const json::value* rt = ao->if_contains("resourceTypes"))
        if (!read_name_list(p + ".resourceTypes", *rt, a.resource_types)) return false;
      if (const json::value* c = ao->if_contains("context")) {
        RawType ctx;
        if (!read_type(p + ".context", *c, ctx, 0, TypeSite::kShape)) return false;
        a.context = std::move(ctx);
      }
    }
    return true;
  }

  // Where a type appears decides which extra keys its object may carry.
  enum class TypeSite : uint8_t { kPlain, kShape, kCommonType, kAttribute };

  bool read_type(const std::string& path, const json::value& v, RawType& out, int depth,
                 TypeSite site) {
    if (depth > kMaxNesting) return fail(path, "types nest too deeply");
    const json::object* o = object_at(path, v);
    if (!o) return false;
    const json::value* tv = o->if_contains("type");
    if (!tv) return fail(path, "missing field `type`");
    std::string type;
    if (!read_string(path + ".type", *tv, type)) return false;

    auto keys_ok = [&](std::initializer_list<std::string_view> own) {
      for (const auto& [key, unused] : *o) {
        bool ok = key == "type";
        for (auto a : own) ok = ok || key == a;
        if (site == TypeSite::kAttribute) ok = ok || key == "required" || key == "annotations";
        if (site == TypeSite::kCommonType) ok = ok || key == "annotations";
        if (!ok) return fail(path, "unknown field `" + std::string(key) + "` for type `" + type + "`");
      }
      return true;
    };
    auto name_field = [&](std::string& name) {
      const json::value* n = o->if_contains("name");
      if (!n) return fail(path, "missing field `name` for type `" + type + "`");
      return read_string(path + ".name", *n, name);
    };

    if (type == "String" || type == "Long" || type == "Boolean") {
      out.kind = type == "String" ? RawType::Kind::kString
                 : type == "Long" ? RawType::Kind::kLong
                                  : RawType::Kind::kBool;
      return keys_ok({});
    }
    if (type == "Set") {
      if (!keys_ok({"element"})) return false;
      const json::value* e = o->if_contains("element");
      if (!e) return fail(path, "missing field `element` for type `Set`");
      out.kind = RawType::Kind::kSet;
      out.element = std::make_shared<RawType>();
      return read_type(path + ".element", *e, *out.element, depth + 1, TypeSite::kPlain);
    }
    if (type == "Record") {
      if (!keys_ok({"attributes", "additionalAttributes"})) return false;
      out.kind = RawType::Kind::kRecord;
      if (const json::value* add = o->if_contains("additionalAttributes")) {
        if (!add->is_bool()) return fail(path + ".additionalAttributes", "expected a boolean");
        out.open_attributes = add->get_bool();
      }
      const json::value* attrs = o->if_contains("attributes");
      if (!attrs) return fail(path, "missing field `attributes` for type `Record`");
      const json::object* ao = object_at(path + ".attributes", *attrs);
      if (!ao) return false;
      for (const auto& [name, def] : *ao) {
        RawAttr attr;
        attr.name = std::string(name);
        std::string p = path + ".attributes." + attr.name;
        if (!read_type(p, def, attr.type, depth + 1, TypeSite::kAttribute)) return false;
        if (const json::value* req = def.as_object().if_contains("required")) {
          if (!req->is_bool()) return fail(p + ".required", "expected a boolean");
          attr.required = req->get_bool();
        }
        out.attributes.push_back(std::move(attr));
      }
      return true;
    }
    if (type == "Entity" || type == "EntityOrCommon") {
      if (!keys_ok({"name"}) || !name_field(out.name)) return false;
      if (!is_path(out.name)) return fail(path + ".name", "`" + out.name + "` is not a valid type name");
      out.kind = RawType::Kind::kNamed;
      out.ref = type == "Entity" ? RefKind::kEntity : RefKind::kCommonOrEntity;
      return true;
    }
    if (type == "Extension") {
      if (!keys_ok({"name"}) || !name_field(out.name)) return false;
      out.kind = RawType::Kind::kExtension;
      return true;
    }
    // Anything else names a common type.
    if (!keys_ok({})) return false;
    if (!is_path(type)) return fail(path + ".type", "`" + type + "` is not a valid type name");
    out.kind = RawType::Kind::kNamed;
    out.ref = RefKind::kCommon;
    out.name = std::move(type);
    return true;
  }

  std::optional<Error> err_;
};

Result<json::value> parse_json_text(std::string_view text) {
  json::parse_options opts;
  opts.max_depth = 256;
  json::stream_parser parser(json::storage_ptr(), opts);
  boost::system::error_code ec;
  size_t consumed = parser.write_some(text.data(), text.size(), ec);
  if (!ec && consumed < text.size()) ec = json::error::extra_data;
  if (!ec) parser.finish(ec);
  if (ec)
    return make_error("parse_error", "invalid JSON: " + ec.message(),
                      loc_of_offset(text, consumed));
  return parser.release();
}

}  // namespace

Result<Schema> parse_schema_json(std::string_view json_text) {
  if (json_text.size() > kMaxSchemaTextBytes)
    return make_error("parse_error", "the schema is larger than " +
                                         std::to_string(kMaxSchemaTextBytes >> 20) + " MiB");
  try {
    auto value = parse_json_text(json_text);
    if (!value) return value.error();
    auto raw = Reader().run(*value);
    if (!raw) return raw.error();
    return internal::resolve_schema(*raw);
  } catch (const std::exception& e) {
    return make_error("parse_error", std::string("cannot read JSON schema: ") + e.what());
  }
}

}  // namespace ztgate::cedar
