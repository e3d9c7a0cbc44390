#include "authn/spiffe_id.h"

namespace ztgate::authn {
namespace {

constexpr std::string_view kScheme = "spiffe://";

bool is_trust_domain_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

bool is_path_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

Error invalid(std::string reason) { return make_error("spiffe_invalid", "invalid SPIFFE ID: " + reason); }

}  // namespace

Status validate_trust_domain(std::string_view trust_domain) {
  if (trust_domain.empty()) return invalid("the trust domain is empty");
  if (trust_domain.size() > kMaxTrustDomainBytes)
    return invalid("the trust domain is longer than " + std::to_string(kMaxTrustDomainBytes) + " bytes");
  for (char c : trust_domain) {
    if (is_trust_domain_char(c)) continue;
    if (c >= 'A' && c <= 'Z') return invalid("the trust domain must be lowercase");
    if (c == '@') return invalid("userinfo is not allowed");
    if (c == ':') return invalid("a port is not allowed");
    if (c == '?') return invalid("a query is not allowed");
    if (c == '#') return invalid("a fragment is not allowed");
    return invalid("the trust domain may only hold a-z, 0-9, '.', '-' and '_'");
  }
  return Ok{};
}

Status validate_spiffe_path(std::string_view path) {
  if (path.empty()) return Ok{};
  if (path.front() != '/') return invalid("the path must start with '/'");
  size_t start = 1;
  while (true) {
    size_t end = path.find('/', start);
    std::string_view segment = path.substr(start, end == std::string_view::npos ? end : end - start);
    if (segment.empty())
      return invalid(end == std::string_view::npos ? "the path must not end with '/'"
                                                   : "the path has an empty segment");
    if (segment == "." || segment == "..") return invalid("the path has a '.' or '..' segment");
    for (char c : segment) {
      if (is_path_char(c)) continue;
      if (c == '?') return invalid("a query is not allowed");
      if (c == '#') return invalid("a fragment is not allowed");
      if (c == '%') return invalid("percent-encoding is not allowed");
      return invalid("path segments may only hold a-z, A-Z, 0-9, '.', '-' and '_'");
    }
    if (end == std::string_view::npos) return Ok{};
    start = end + 1;
  }
}

Result<SpiffeId> parse_spiffe_id(std::string_view text) {
  if (text.empty()) return invalid("it is empty");
  if (text.size() > kMaxSpiffeIdBytes)
    return invalid("it is longer than " + std::to_string(kMaxSpiffeIdBytes) + " bytes");
  if (text.substr(0, kScheme.size()) != kScheme) {
    size_t colon = text.find(':');
    std::string_view scheme = text.substr(0, colon);
    bool spiffe_any_case = scheme.size() == 6 && colon != std::string_view::npos;
    for (size_t i = 0; spiffe_any_case && i < 6; ++i)
      spiffe_any_case = (scheme[i] | 0x20) == "spiffe"[i];
    if (spiffe_any_case && scheme != "spiffe") return invalid("the scheme must be lowercase 'spiffe'");
    return invalid("it must start with 'spiffe://'");
  }
  std::string_view rest = text.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view trust_domain = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  if (auto st = validate_trust_domain(trust_domain); !st) return st.error();
  if (auto st = validate_spiffe_path(path); !st) return st.error();
  return SpiffeId{std::string(trust_domain), std::string(path)};
}

}  // namespace ztgate::authn
