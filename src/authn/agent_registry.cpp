#include "authn/agent_registry.h"

#include <boost/json.hpp>

namespace ztgate::authn {

Result<AgentRegistry> AgentRegistry::create(std::vector<AgentRecord> agents) {
  if (agents.size() > kMaxAgents)
    return make_error("agent_registry_invalid", "more than " + std::to_string(kMaxAgents) + " agents");
  AgentRegistry reg;
  for (auto& a : agents) {
    if (a.id.empty() || a.id.size() > kMaxClaimBytes)
      return make_error("agent_registry_invalid", "an agent id is empty or longer than 1024 bytes");
    std::string id = a.id;
    if (!reg.agents_.emplace(id, std::move(a)).second)
      return make_error("agent_registry_invalid", "agent `" + id + "` is registered twice");
  }
  for (const auto& [id, a] : reg.agents_) {
    for (const auto& d : a.delegate_to)
      if (!reg.agents_.count(d))
        return make_error("agent_registry_invalid",
                          "agent `" + id + "` may delegate to `" + d + "`, which is not registered");
  }
  return reg;
}

const AgentRecord* AgentRegistry::find(const std::string& id) const {
  auto it = agents_.find(id);
  return it == agents_.end() ? nullptr : &it->second;
}

std::vector<const AgentRecord*> AgentRegistry::all() const {
  std::vector<const AgentRecord*> out;
  for (const auto& [id, a] : agents_) out.push_back(&a);
  return out;
}

boost::json::object agent_entity(const AgentRecord& agent, const EntityRef& on_behalf_of) {
  boost::json::array max_scopes, parents;
  for (const auto& s : agent.max_scopes.items()) max_scopes.emplace_back(s);
  for (const auto& g : agent.groups) parents.push_back(EntityRef{"Group", g}.to_json());
  boost::json::object attrs{
      {"on_behalf_of", boost::json::object{{"__entity", on_behalf_of.to_json()}}},
      {"max_scopes", std::move(max_scopes)}};
  return {{"uid", EntityRef{"Agent", agent.id}.to_json()},
          {"attrs", std::move(attrs)},
          {"parents", std::move(parents)}};
}

}  // namespace ztgate::authn
