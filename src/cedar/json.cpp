// Cedar's JSON formats for values, entity uids, entities and contexts.
// Integers stay exact 64-bit values (Boost.JSON never routes them through
// double); floating-point numbers are rejected, as Cedar has none.
#include <boost/json.hpp>

#include "cedar/authorizer.h"
#include "cedar/entities.h"
#include "cedar/ext/extensions.h"
#include "common/json_keys.h"
#include "cedar/limits.h"
#include "cedar/policy_set.h"

namespace ztgate::cedar {
namespace {

namespace json = boost::json;

constexpr int kMaxJsonDepth = 128;

Error json_error(std::string msg) { return make_error("json_error", std::move(msg)); }

Result<json::value> parse_json(std::string_view text) {
  if (text.size() > kMaxJsonTextBytes)
    return make_error("input_too_large", "JSON input is larger than " +
                                             std::to_string(kMaxJsonTextBytes >> 20) + " MiB");
  json::parse_options opt;
  opt.max_depth = kMaxJsonDepth;
  json::parser parser({}, opt);
  boost::system::error_code ec;
  size_t used = parser.write(text.data(), text.size(), ec);
  if (ec) {
    // Report where: the parser stops at the offending byte.
    SourceLoc loc{1, 1};
    for (size_t i = 0; i < used && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++loc.line;
        loc.column = 1;
      } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
        ++loc.column;
      }
    }
    return make_error("json_error", "invalid JSON: " + ec.message(), loc);
  }
  json::value v = parser.release();
  if (auto dup = reject_duplicate_keys(text, kMaxJsonDepth, "json_error"); !dup) return dup.error();
  return v;
}

std::string_view sv(const json::string& s) { return std::string_view(s.data(), s.size()); }

Result<EntityUID> uid_from_json(const json::value& v) {
  const json::object* o = v.if_object();
  if (!o) return json_error("expected an entity uid object {\"type\": ..., \"id\": ...}");
  if (o->size() == 1 && o->contains("__entity")) return uid_from_json(o->at("__entity"));
  const json::value* t = o->if_contains("type");
  const json::value* i = o->if_contains("id");
  // Other fields are ignored, as in Cedar.
  if (!t || !i || !t->is_string() || !i->is_string())
    return json_error("expected an entity uid object with string fields `type` and `id`, got " +
                      json::serialize(v));
  std::string type(sv(t->get_string()));
  // The type must be a valid Cedar name (namespaces joined by `::`), exactly:
  // the Cedar text parser would also skip whitespace and comments around it.
  auto check = parse_entity_uid(type + "::\"\"");
  if (!check || check->type != type) return json_error("invalid entity type name `" + type + "`");
  return EntityUID{std::move(type), std::string(sv(i->get_string()))};
}

Result<Value> value_from_json(const json::value& v, const SchemaType* expected, int depth);

Result<Value> extension_from_json(const json::value& ext, int depth) {
  const json::object* o = ext.if_object();
  if (!o || !o->contains("fn") || !o->at("fn").is_string())
    return json_error("`__extn` needs an object with a string field `fn`");
  std::string fn(sv(o->at("fn").get_string()));
  std::vector<Value> args;
  if (const json::value* a = o->if_contains("arg")) {
    auto v = value_from_json(*a, nullptr, depth + 1);
    if (!v) return v.error();
    args.push_back(std::move(*v));
  } else if (const json::value* as = o->if_contains("args")) {
    if (!as->is_array()) return json_error("`__extn.args` must be an array");
    for (const auto& x : as->get_array()) {
      auto v = value_from_json(x, nullptr, depth + 1);
      if (!v) return v.error();
      args.push_back(std::move(*v));
    }
  } else {
    return json_error("`__extn` needs `arg` or `args`");
  }
  if (auto r = call_extension_function(fn, args)) return std::move(*r);
  if (!args.empty()) {
    if (auto r = call_extension_method(fn, args[0], std::span<const Value>(args).subspan(1)))
      return std::move(*r);
  }
  return json_error("unknown extension function `" + fn + "`");
}

Result<Value> value_from_json(const json::value& v, const SchemaType* expected, int depth) {
  if (depth > kMaxJsonDepth) return json_error("JSON value is nested too deeply");
  using K = SchemaType::Kind;
  switch (v.kind()) {
    case json::kind::bool_: return Value(v.get_bool());
    case json::kind::int64: return Value(v.get_int64());
    case json::kind::uint64:
      return json_error("integer " + std::to_string(v.get_uint64()) + " is out of the 64-bit signed range");
    case json::kind::double_: return json_error("floating-point numbers are not Cedar values");
    case json::kind::null: return json_error("null is not a Cedar value");
    case json::kind::string: {
      if (expected && expected->kind == K::kExtension) {
        // Schema type names differ from constructor names only for ipaddr.
        std::string_view ctor = expected->name == "ipaddr" ? "ip" : std::string_view(expected->name);
        auto r = make_extension_value(ctor, sv(v.get_string()));
        if (!r) return r.error();
        return std::move(*r);
      }
      return Value(std::string(sv(v.get_string())));
    }
    case json::kind::array: {
      const SchemaType* elem = expected && expected->kind == K::kSet ? expected->element.get() : nullptr;
      ValueSet out;
      out.reserve(v.get_array().size());
      for (const auto& x : v.get_array()) {
        auto e = value_from_json(x, elem, depth + 1);
        if (!e) return e.error();
        out.push_back(std::move(*e));
      }
      return Value::set(std::move(out));
    }
    case json::kind::object: {
      const json::object& o = v.get_object();
      if (o.size() == 1 && o.contains("__entity")) {
        auto uid = uid_from_json(o.at("__entity"));
        if (!uid) return uid.error();
        return Value(std::move(*uid));
      }
      if (o.size() == 1 && o.contains("__extn")) return extension_from_json(o.at("__extn"), depth);
      if (expected && expected->kind == K::kEntity) {
        auto uid = uid_from_json(v);
        if (!uid) return uid.error();
        return Value(std::move(*uid));
      }
      ValueRecord rec;
      for (const auto& [k, x] : o) {
        const SchemaType* attr = nullptr;
        if (expected && expected->kind == K::kRecord) {
          auto it = expected->attributes.find(std::string(sv(k)));
          if (it != expected->attributes.end()) attr = it->second.type.get();
        }
        auto e = value_from_json(x, attr, depth + 1);
        if (!e) return e.error();
        rec.insert_or_assign(std::string(sv(k)), std::move(*e));
      }
      return Value::record(std::move(rec));
    }
  }
  return json_error("unsupported JSON value");
}

Result<ValueRecord> record_from_json(const json::value& v,
                                     const std::map<std::string, AttributeType>* shape,
                                     const SchemaType* all_values, std::string_view what) {
  const json::object* o = v.if_object();
  if (!o) return json_error(std::string(what) + " must be a JSON object");
  ValueRecord rec;
  for (const auto& [k, x] : *o) {
    const SchemaType* t = all_values;
    if (shape) {
      auto it = shape->find(std::string(sv(k)));
      if (it != shape->end()) t = it->second.type.get();
    }
    auto e = value_from_json(x, t, 1);
    if (!e) return make_error("json_error", std::string(what) + " `" + std::string(sv(k)) + "`: " + e.error().message);
    rec.insert_or_assign(std::string(sv(k)), std::move(*e));
  }
  return rec;
}


Result<Entity> entity_from_json(const json::value& v, const Schema* schema) {
  const json::object* o = v.if_object();
  if (!o || !o->contains("uid")) return json_error("each entity must be an object with a `uid`");
  Entity e;
  auto uid = uid_from_json(o->at("uid"));
  if (!uid) return uid.error();
  e.uid = std::move(*uid);
  const EntityTypeDef* def = schema ? schema->entity_type(e.uid.type) : nullptr;
  if (const json::value* attrs = o->if_contains("attrs")) {
    auto r = record_from_json(*attrs, def ? &def->attributes : nullptr, nullptr, "attribute");
    if (!r) return make_error("json_error", "entity `" + to_string(e.uid) + "`: " + r.error().message);
    e.attrs = std::move(*r);
  }
  if (const json::value* tags = o->if_contains("tags")) {
    auto r = record_from_json(*tags, nullptr, def ? def->tags.get() : nullptr, "tag");
    if (!r) return make_error("json_error", "entity `" + to_string(e.uid) + "`: " + r.error().message);
    e.tags = std::move(*r);
  }
  if (const json::value* parents = o->if_contains("parents")) {
    if (!parents->is_array()) return json_error("`parents` must be an array");
    for (const auto& p : parents->get_array()) {
      auto puid = uid_from_json(p);
      if (!puid) return puid.error();
      // As in Cedar, actions may only be members of actions.
      if (is_action_entity_type(e.uid.type) && !is_action_entity_type(puid->type))
        return json_error("action `" + to_string(e.uid) + "` has a non-action parent `" +
                          to_string(*puid) + "`");
      e.parents.push_back(std::move(*puid));
    }
  }
  return e;
}

}  // namespace

Result<Value> parse_value_json(std::string_view text, const SchemaType* expected) {
  auto v = parse_json(text);
  if (!v) return v.error();
  return value_from_json(*v, expected, 0);
}

Result<EntityUID> parse_entity_uid_json(std::string_view text) {
  auto v = parse_json(text);
  if (!v) return v.error();
  return uid_from_json(*v);
}

Result<EntityUID> parse_entity_uid(std::string_view text) {
  auto e = parse_expression(text);
  if (!e) return e.error();
  if ((*e)->kind != Expr::Kind::kLiteral || !(*e)->value.is_entity())
    return make_error("parse_error", "expected an entity uid like `User::\"alice\"`");
  return (*e)->value.as_entity();
}

Result<Entities> parse_entities_json(std::string_view text, const Schema* schema) {
  auto v = parse_json(text);
  if (!v) return v.error();
  if (!v->is_array()) return json_error("entities must be a JSON array");
  std::vector<Entity> list;
  list.reserve(v->get_array().size() + (schema ? schema->actions.size() : 0));
  std::map<EntityUID, size_t> index;
  for (const auto& x : v->get_array()) {
    auto e = entity_from_json(x, schema);
    if (!e) return e.error();
    index.emplace(e->uid, list.size());
    list.push_back(std::move(*e));
  }
  if (schema) {
    // Action entities and their groups come from the schema.
    for (const auto& [uid, action] : schema->actions) {
      auto it = index.find(uid);
      if (it != index.end()) {
        auto& parents = list[it->second].parents;
        for (const auto& p : action.member_of)
          if (std::find(parents.begin(), parents.end(), p) == parents.end()) parents.push_back(p);
        continue;
      }
      Entity e;
      e.uid = uid;
      e.parents = action.member_of;
      list.push_back(std::move(e));
    }
  }
  return Entities::build(std::move(list));
}

Result<RecordPtr> parse_context_json(std::string_view text, const Schema* schema,
                                     const EntityUID& action) {
  auto v = parse_json(text);
  if (!v) return v.error();
  const SchemaType* ctx_type = nullptr;
  if (schema) {
    if (const ActionDef* a = schema->action(action)) ctx_type = a->context.get();
  }
  auto r = record_from_json(*v, ctx_type ? &ctx_type->attributes : nullptr, nullptr, "context attribute");
  if (!r) return r.error();
  return std::make_shared<const ValueRecord>(std::move(*r));
}

}  // namespace ztgate::cedar
