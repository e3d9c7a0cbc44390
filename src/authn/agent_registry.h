// Registered AI agents: identities of their own with a maximum scope set.
// An agent never inherits the user's access; what it may do for a user is
// minted per task by delegation (delegation.h) and can never exceed max_scopes.
//
// Immutable after construction (swap a new registry on reload); safe to
// share across threads. Error code: agent_registry_invalid.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "authn/identity.h"
#include "authn/scopes.h"

namespace ztgate::authn {

inline constexpr size_t kMaxAgents = 100000;

struct AgentRecord {
  std::string id;                      // Cedar Agent entity id
  std::string description;
  ScopeSet max_scopes;                 // the ceiling of every delegation to this agent
  std::vector<std::string> groups;     // Cedar parents (Group ids), e.g. "agents"
  std::vector<std::string> delegate_to;  // agents this one may hand a sub-task to
  int64_t max_ttl_s = 0;               // 0: the gateway's maximum applies
  bool enabled = true;                 // disabled: every token naming it stops working
};

class AgentRegistry {
 public:
  AgentRegistry() = default;
  // Refuses duplicate or empty ids, and delegate_to naming unknown agents.
  static Result<AgentRegistry> create(std::vector<AgentRecord> agents);

  const AgentRecord* find(const std::string& id) const;
  size_t size() const { return agents_.size(); }
  std::vector<const AgentRecord*> all() const;

 private:
  std::map<std::string, AgentRecord, std::less<>> agents_;
};

// The Agent principal for a request: Agent::"id" with on_behalf_of (the
// user), max_scopes, and the agent's groups as parents. Agent entity type is
// "Agent", group type "Group".
boost::json::object agent_entity(const AgentRecord& agent, const EntityRef& on_behalf_of);

}  // namespace ztgate::authn
