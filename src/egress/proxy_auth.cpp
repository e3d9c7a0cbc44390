#include "egress/proxy_auth.h"

namespace ztgate::egress {
namespace {

bool starts_with_scheme(std::string_view v, std::string_view scheme) {
  if (v.size() <= scheme.size() || v[scheme.size()] != ' ') return false;
  for (size_t i = 0; i < scheme.size(); ++i) {
    char c = v[i] >= 'A' && v[i] <= 'Z' ? static_cast<char>(v[i] - 'A' + 'a') : v[i];
    if (c != scheme[i]) return false;
  }
  return true;
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Standard base64 (RFC 4648 section 4), padding optional.
std::optional<std::string> base64_decode(std::string_view in) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = base64_value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

bool printable(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<std::string> proxy_credential(std::string_view v) {
  if (v.size() > kMaxProxyAuthorizationBytes) return std::nullopt;
  v = trim(v);
  if (starts_with_scheme(v, "bearer")) {
    std::string_view token = trim(v.substr(7));
    if (token.empty() || !printable(token)) return std::nullopt;
    return std::string(token);
  }
  if (!starts_with_scheme(v, "basic")) return std::nullopt;
  auto decoded = base64_decode(trim(v.substr(6)));
  if (!decoded) return std::nullopt;
  size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string_view user = std::string_view(*decoded).substr(0, colon);
  std::string_view secret = std::string_view(*decoded).substr(colon + 1);
  std::string_view credential = secret.empty() ? user : secret;
  if (credential.empty() || !printable(credential)) return std::nullopt;
  return std::string(credential);
}

}  // namespace ztgate::egress
