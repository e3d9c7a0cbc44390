#include "authn/scopes.h"

#include <boost/json.hpp>

#include <algorithm>
#include <iterator>

namespace ztgate::authn {
namespace {

Error scope_error(std::string message) { return make_error("scope_invalid", std::move(message)); }

Result<ScopeSet> from_tokens(std::vector<std::string> tokens) {
  if (tokens.size() > kMaxScopes)
    return scope_error("more than " + std::to_string(kMaxScopes) + " scopes");
  for (const auto& t : tokens) {
    if (!is_valid_scope_token(t))
      return scope_error(t.size() > kMaxScopeBytes
                             ? "a scope is longer than " + std::to_string(kMaxScopeBytes) + " bytes"
                             : "scope `" + t + "` has characters outside RFC 6749 scope-token");
  }
  return ScopeSet::from_list(tokens);
}

}  // namespace

bool is_valid_scope_token(std::string_view scope) {
  if (scope.empty() || scope.size() > kMaxScopeBytes) return false;
  for (unsigned char c : scope) {
    bool ok = c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);
    if (!ok) return false;
  }
  return true;
}

Result<ScopeSet> ScopeSet::parse(std::string_view text) {
  std::vector<std::string> tokens;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ') {
      ++i;
      continue;
    }
    size_t end = text.find(' ', i);
    if (end == std::string_view::npos) end = text.size();
    tokens.emplace_back(text.substr(i, end - i));
    if (tokens.size() > kMaxScopes)
      return scope_error("more than " + std::to_string(kMaxScopes) + " scopes");
    i = end;
  }
  return from_tokens(std::move(tokens));
}

Result<ScopeSet> ScopeSet::from_list(const std::vector<std::string>& scopes) {
  if (scopes.size() > kMaxScopes)
    return scope_error("more than " + std::to_string(kMaxScopes) + " scopes");
  ScopeSet set;
  for (const auto& s : scopes) {
    if (!is_valid_scope_token(s))
      return scope_error("scope `" + s.substr(0, kMaxScopeBytes) +
                         "` is empty, too long or has characters outside RFC 6749 scope-token");
    set.scopes_.push_back(s);
  }
  std::sort(set.scopes_.begin(), set.scopes_.end());
  set.scopes_.erase(std::unique(set.scopes_.begin(), set.scopes_.end()), set.scopes_.end());
  return set;
}

Result<ScopeSet> ScopeSet::from_claim(const boost::json::value& claim) {
  if (claim.is_string()) return parse(std::string_view(claim.get_string()));
  if (!claim.is_array()) return scope_error("a scope claim must be a string or an array of strings");
  const auto& array = claim.get_array();
  if (array.size() > kMaxScopes)
    return scope_error("more than " + std::to_string(kMaxScopes) + " scopes");
  std::vector<std::string> tokens;
  for (const auto& v : array) {
    if (!v.is_string()) return scope_error("a scope array must hold only strings");
    tokens.emplace_back(v.get_string());
  }
  return from_tokens(std::move(tokens));
}

bool ScopeSet::contains(std::string_view scope) const {
  return std::binary_search(scopes_.begin(), scopes_.end(), scope);
}

bool ScopeSet::subset_of(const ScopeSet& other) const {
  return std::includes(other.scopes_.begin(), other.scopes_.end(), scopes_.begin(), scopes_.end());
}

ScopeSet ScopeSet::intersect(const ScopeSet& other) const {
  ScopeSet out;
  std::set_intersection(scopes_.begin(), scopes_.end(), other.scopes_.begin(), other.scopes_.end(),
                        std::back_inserter(out.scopes_));
  return out;
}

ScopeSet ScopeSet::unite(const ScopeSet& other) const {
  ScopeSet out;
  std::set_union(scopes_.begin(), scopes_.end(), other.scopes_.begin(), other.scopes_.end(),
                 std::back_inserter(out.scopes_));
  return out;
}

ScopeSet ScopeSet::minus(const ScopeSet& other) const {
  ScopeSet out;
  std::set_difference(scopes_.begin(), scopes_.end(), other.scopes_.begin(), other.scopes_.end(),
                      std::back_inserter(out.scopes_));
  return out;
}

std::string ScopeSet::to_string() const {
  std::string out;
  for (const auto& s : scopes_) {
    if (!out.empty()) out += ' ';
    out += s;
  }
  return out;
}

}  // namespace ztgate::authn
