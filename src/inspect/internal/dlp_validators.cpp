// DLP validators (see dlp_validators.h).
#include "inspect/internal/dlp_validators.h"

#include <arpa/inet.h>

#include <algorithm>
#include <string>

#include "inspect/internal/checksums.h"

namespace ztgate::inspect::internal {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

size_t count_digits(std::string_view s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), is_digit));
}

bool valid_ipv4(std::string_view v) {
  int parts = 0;
  size_t i = 0;
  while (i <= v.size()) {
    const size_t dot = std::min(v.find('.', i), v.size());
    const std::string_view part = v.substr(i, dot - i);
    if (part.empty() || part.size() > 3 || count_digits(part) != part.size()) return false;
    if (part.size() > 1 && part[0] == '0') return false;  // 010: octal or a version, not an address
    int n = 0;
    for (char c : part) n = n * 10 + (c - '0');
    if (n > 255) return false;
    ++parts;
    i = dot + 1;
  }
  return parts == 4;
}

// A real address, not "::", "std::abs" or a time: inet_pton accepts it and
// it has at least three non-empty groups.
bool valid_ipv6(std::string_view v) {
  if (v.size() > 45) return false;
  unsigned char buf[16];
  if (inet_pton(AF_INET6, std::string(v).c_str(), buf) != 1) return false;
  int groups = 0;
  bool in_group = false;
  for (char c : v) {
    const bool hex = c != ':';
    if (hex && !in_group) ++groups;
    in_group = hex;
  }
  return groups >= 3;
}

// base64url (no padding needed) to bytes; false on a character outside it.
bool base64url_decode(std::string_view in, std::string& out) {
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '-' || c == '+') v = 62;
    else if (c == '_' || c == '/') v = 63;
    else if (c == '=') break;
    else return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return true;
}

// header.payload.signature where the header decodes to a JSON object naming
// its "alg" and the payload to a JSON object.
bool valid_jwt(std::string_view v) {
  const size_t dot1 = v.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : v.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos) return false;
  std::string header, payload;
  if (!base64url_decode(v.substr(0, dot1), header) ||
      !base64url_decode(v.substr(dot1 + 1, dot2 - dot1 - 1), payload))
    return false;
  auto object = [](const std::string& s) {
    const size_t open = s.find_first_not_of(" \t\r\n");
    return open != std::string::npos && s[open] == '{';
  };
  return object(header) && object(payload) && header.find("\"alg\"") != std::string::npos;
}

bool valid_email(std::string_view v) {
  const size_t at = v.find('@');
  if (at == 0 || at == std::string_view::npos) return false;
  const std::string_view local = v.substr(0, at), domain = v.substr(at + 1);
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos)
    return false;
  const size_t dot = domain.rfind('.');
  if (dot == std::string_view::npos) return false;
  const std::string_view tld = domain.substr(dot + 1);
  return tld.size() >= 2 && std::all_of(tld.begin(), tld.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
         });
}

bool valid_phone_nanp(std::string_view v) {
  std::string d;
  for (char c : v)
    if (is_digit(c)) d.push_back(c);
  if (d.size() == 11 && d[0] == '1') d.erase(0, 1);
  if (d.size() != 10) return false;
  // Area code and exchange start 2-9; N11 codes are services, 555-01xx fiction.
  if (d[0] < '2' || d[3] < '2') return false;
  if (d[1] == '1' && d[2] == '1') return false;
  return !(d.compare(3, 3, "555") == 0 && d[6] == '0' && d[7] == '1');
}

}  // namespace

bool validate_dlp_value(std::string_view name, std::string_view value) {
  if (name == "luhn") return valid_payment_card(value);
  if (name == "iban") return valid_iban(value);
  if (name == "ssn_us") return valid_ssn_us(value);
  if (name == "nino_uk") return valid_nino_uk(value);
  if (name == "dni_es") return valid_dni_es(value);
  if (name == "nir_fr") return valid_nir_fr(value);
  if (name == "steuer_id_de") return valid_steuer_id_de(value);
  if (name == "ipv4") return valid_ipv4(value);
  if (name == "ipv6") return valid_ipv6(value);
  if (name == "jwt") return valid_jwt(value);
  if (name == "email") return valid_email(value);
  if (name == "phone_e164") return count_digits(value) >= 8 && count_digits(value) <= 15;
  if (name == "phone_nanp") return valid_phone_nanp(value);
  if (name == "phone_national") return count_digits(value) >= 10 && count_digits(value) <= 12;
  return false;
}

size_t extend_pem_block(std::string_view text, size_t begin, size_t end, size_t max_bytes) {
  const size_t limit = std::min(text.size(), begin + max_bytes);
  if (end >= limit) return std::min(end, text.size());
  const std::string_view window = text.substr(0, limit);
  const size_t end_marker = window.find("-----END ", end);
  if (end_marker != std::string_view::npos) {
    const size_t close = window.find("-----", end_marker + 9);
    if (close != std::string_view::npos && close - end_marker < 80) return close + 5;
  }
  // No END in reach: the body (base64, line breaks, Proc-Type/DEK-Info
  // headers) that follows.
  size_t i = end;
  auto body = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/' || c == '=' || c == '\r' || c == '\n' || c == ' ' || c == ':' ||
           c == ',' || c == '-';
  };
  while (i < limit && body(text[i])) ++i;
  return i;
}

}  // namespace ztgate::inspect::internal
