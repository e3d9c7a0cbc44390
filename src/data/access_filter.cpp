#include "data/access_filter.h"

namespace ztgate::data {
namespace {

namespace json = boost::json;

json::array strings_json(const std::vector<std::string>& items) {
  json::array a;
  a.reserve(items.size());
  for (const auto& s : items) a.emplace_back(s);
  return a;
}

}  // namespace

Result<AccessFilter> access_filter(const DocumentCatalog& catalog, const std::optional<std::string>& user,
                                   const std::vector<std::string>& credential_groups) {
  AccessFilter f;
  if (!user) {
    f.match_nothing = true;
    f.why = "the principal is no user and acts for none";
    return f;
  }
  f.user = *user;
  const UserRecord* u = catalog.user(*user);
  std::vector<std::string> start = credential_groups;
  if (u) start.insert(start.end(), u->groups.begin(), u->groups.end());
  auto groups = catalog.group_closure(std::move(start));
  if (!groups) return groups.error();
  f.acl_principals.push_back("user:" + *user);
  for (const auto& g : *groups) f.acl_principals.push_back("group:" + g);
  if (!u || !u->clearance || u->tenant.empty()) {
    f.match_nothing = true;
    f.why = !u ? "the user is not in the catalog" : !u->clearance ? "the user has no clearance" : "the user has no tenant";
    return f;
  }
  f.max_classification = *u->clearance;
  f.max_label = catalog.scale().label(*u->clearance);
  f.tenant = u->tenant;
  return f;
}

json::object predicate_json(const AccessFilter& f) {
  if (f.match_nothing) return {{"none", true}};
  json::array any{json::object{{"field", "owner"}, {"op", "eq"}, {"value", f.user}},
                  json::object{{"field", "readers"}, {"op", "overlaps"}, {"values", strings_json(f.acl_principals)}}};
  json::array all{json::object{{"field", "tenant"}, {"op", "eq"}, {"value", f.tenant}},
                  json::object{{"field", "classification"}, {"op", "lte"}, {"value", f.max_classification}},
                  json::object{{"any", std::move(any)}}};
  return {{"all", std::move(all)}};
}

SqlFilter render_postgresql(const AccessFilter& f) {
  SqlFilter s;
  if (f.match_nothing) {
    s.where = "FALSE";
    return s;
  }
  s.where = "tenant = $1 AND classification <= $2 AND (owner = $3 OR readers && $4::text[])";
  s.params = {json::value(f.tenant), json::value(f.max_classification), json::value(f.user),
              json::value(strings_json(f.acl_principals))};
  return s;
}

json::object render_opensearch(const AccessFilter& f) {
  if (f.match_nothing) return {{"bool", {{"must_not", json::array{json::object{{"match_all", json::object{}}}}}}}};
  json::array should{json::object{{"term", {{"owner", f.user}}}},
                     json::object{{"terms", {{"readers", strings_json(f.acl_principals)}}}}};
  json::array filter{json::object{{"term", {{"tenant", f.tenant}}}},
                     json::object{{"range", {{"classification", {{"lte", f.max_classification}}}}}},
                     json::object{{"bool", {{"should", std::move(should)}, {"minimum_should_match", 1}}}}};
  return {{"bool", {{"filter", std::move(filter)}}}};
}

}  // namespace ztgate::data
