// Scope sets (OAuth 2.0 scope tokens, RFC 6749 §3.3) and the set algebra of
// delegation: a delegated scope is requested ∩ user's permitted ∩ agent's
// maximum, never more.
//
// A scope token is 1..128 bytes of %x21 / %x23-5B / %x5D-7E (printable ASCII
// without space, `"` and `\`); a set holds at most kMaxScopes tokens. Error
// code "scope_invalid".
#pragma once

#include <boost/json/fwd.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ztgate::authn {

inline constexpr size_t kMaxScopes = 256;
inline constexpr size_t kMaxScopeBytes = 128;

// An immutable-in-spirit sorted set of distinct scope tokens.
class ScopeSet {
 public:
  ScopeSet() = default;

  // From a space-separated string ("read:docs write:tickets"), as in the
  // OAuth `scope` claim and parameter. Repeated spaces are tolerated.
  static Result<ScopeSet> parse(std::string_view space_separated);
  // From a list, e.g. a YAML sequence or the `scp` array claim.
  static Result<ScopeSet> from_list(const std::vector<std::string>& scopes);
  // From a JWT claim value: a space-separated string or an array of strings.
  static Result<ScopeSet> from_claim(const boost::json::value& claim);

  bool contains(std::string_view scope) const;
  bool subset_of(const ScopeSet& other) const;
  bool empty() const { return scopes_.empty(); }
  size_t size() const { return scopes_.size(); }
  const std::vector<std::string>& items() const { return scopes_; }

  ScopeSet intersect(const ScopeSet& other) const;
  ScopeSet unite(const ScopeSet& other) const;  // bounded by the caller's inputs
  ScopeSet minus(const ScopeSet& other) const;

  std::string to_string() const;  // space-separated, sorted
  bool operator==(const ScopeSet&) const = default;

 private:
  std::vector<std::string> scopes_;  // sorted, unique
};

bool is_valid_scope_token(std::string_view scope);

}  // namespace ztgate::authn
