#include "cedar/policy_set.h"

namespace ztgate::cedar {

std::optional<std::string> Policy::annotation(std::string_view key) const {
  for (const auto& a : annotations)
    if (a.key == key) return a.value.value_or("");
  return std::nullopt;
}

bool PolicySet::id_taken(std::string_view id) const {
  return find_policy(id) != nullptr || find_template(id) != nullptr;
}

const Policy* PolicySet::find_policy(std::string_view id) const {
  for (const auto& p : policies_)
    if (p->id == id) return p.get();
  return nullptr;
}

const Policy* PolicySet::find_template(std::string_view id) const {
  for (const auto& t : templates_)
    if (t->id == id) return t.get();
  return nullptr;
}

Status PolicySet::add(Policy policy) {
  if (id_taken(policy.id))
    return make_error("duplicate_policy_id", "policy id `" + policy.id + "` is already used", policy.loc);
  auto ptr = std::make_shared<const Policy>(std::move(policy));
  (ptr->is_template ? templates_ : policies_).push_back(std::move(ptr));
  return Ok{};
}

Status PolicySet::link(std::string_view template_id, std::string_view new_id,
                       const std::map<SlotId, EntityUID>& values) {
  const Policy* t = find_template(template_id);
  if (!t) return make_error("unknown_template", "no template with id `" + std::string(template_id) + "`");
  if (id_taken(new_id))
    return make_error("duplicate_policy_id", "policy id `" + std::string(new_id) + "` is already used");
  Policy linked = *t;  // conditions are shared, immutable expression trees
  linked.id = std::string(new_id);
  linked.is_template = false;
  linked.template_id = std::string(template_id);
  auto fill = [&](EntityScope& scope, SlotId slot, std::string_view name) -> Status {
    auto it = values.find(slot);
    if (scope.uses_slot) {
      if (it == values.end())
        return make_error("missing_slot", "template `" + std::string(template_id) +
                                              "` needs a value for ?" + std::string(name));
      scope.entity = it->second;
      scope.uses_slot = false;
    } else if (it != values.end()) {
      return make_error("unexpected_slot", "template `" + std::string(template_id) +
                                               "` has no slot ?" + std::string(name));
    }
    return Ok{};
  };
  if (auto st = fill(linked.principal, SlotId::kPrincipal, "principal"); !st) return st;
  if (auto st = fill(linked.resource, SlotId::kResource, "resource"); !st) return st;
  policies_.push_back(std::make_shared<const Policy>(std::move(linked)));
  return Ok{};
}

}  // namespace ztgate::cedar
