#include "egress/ip_address.h"

#include <arpa/inet.h>

#include <cstring>

namespace ztgate::egress {
namespace {

constexpr size_t kMaxIpText = 64;  // longer is never an address

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

// One part of a legacy IPv4 address (WHATWG "IPv4 number parser"), capped
// at 2^32: anything larger is out of range whatever its position.
std::optional<uint64_t> ipv4_number(std::string_view part) {
  if (part.empty()) return std::nullopt;
  int radix = 10;
  if (part.size() >= 2 && part[0] == '0' && (part[1] == 'x' || part[1] == 'X')) {
    radix = 16;
    part.remove_prefix(2);
  } else if (part.size() >= 2 && part[0] == '0') {
    radix = 8;
    part.remove_prefix(1);
  }
  uint64_t value = 0;
  for (char c : part) {
    int d;
    if (radix == 16) {
      if (!is_hex(c)) return std::nullopt;
      d = hex_value(c);
    } else {
      if (!is_digit(c)) return std::nullopt;
      d = c - '0';
      if (d >= radix) return std::nullopt;  // 8 or 9 in an octal part
    }
    value = value * static_cast<uint64_t>(radix) + static_cast<uint64_t>(d);
    if (value > 0xFFFFFFFFull) value = uint64_t{1} << 32;  // saturate: out of range either way
  }
  return value;
}

}  // namespace

IpAddress IpAddress::v4(uint32_t host_order) {
  IpAddress a;
  a.family_ = Family::kV4;
  a.bytes_[0] = static_cast<uint8_t>(host_order >> 24);
  a.bytes_[1] = static_cast<uint8_t>(host_order >> 16);
  a.bytes_[2] = static_cast<uint8_t>(host_order >> 8);
  a.bytes_[3] = static_cast<uint8_t>(host_order);
  return a;
}

IpAddress IpAddress::v6(const std::array<uint8_t, 16>& bytes) {
  IpAddress a;
  a.family_ = Family::kV6;
  a.bytes_ = bytes;
  return a;
}

uint32_t IpAddress::v4_value() const {
  return (uint32_t{bytes_[0]} << 24) | (uint32_t{bytes_[1]} << 16) | (uint32_t{bytes_[2]} << 8) | bytes_[3];
}

std::optional<IpAddress> IpAddress::unmapped_v4() const {
  if (is_v4()) return std::nullopt;
  for (size_t i = 0; i < 10; ++i)
    if (bytes_[i] != 0) return std::nullopt;
  if (bytes_[10] != 0xff || bytes_[11] != 0xff) return std::nullopt;
  return v4((uint32_t{bytes_[12]} << 24) | (uint32_t{bytes_[13]} << 16) | (uint32_t{bytes_[14]} << 8) | bytes_[15]);
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof buf) == nullptr) return "";
  return buf;
}

std::optional<IpAddress> parse_ipv6(std::string_view text) {
  if (text.empty() || text.size() > kMaxIpText) return std::nullopt;
  char buf[kMaxIpText + 1];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  std::array<uint8_t, 16> bytes{};
  // glibc's inet_pton for AF_INET6 is RFC 4291 text exactly: hextets of 1-4
  // hex digits, one "::", an optional trailing dotted quad of four decimal
  // parts without leading zeros; no zone id, no brackets, no spaces.
  if (inet_pton(AF_INET6, buf, bytes.data()) != 1) return std::nullopt;
  return IpAddress::v6(bytes);
}

std::optional<IpAddress> parse_ip_strict(std::string_view text) {
  if (text.empty() || text.size() > kMaxIpText) return std::nullopt;
  if (text.find(':') != std::string_view::npos) return parse_ipv6(text);
  // Four decimal parts of 1-3 digits, no leading zeros, each <= 255.
  uint32_t value = 0;
  size_t parts = 0, i = 0;
  while (i <= text.size()) {
    size_t end = text.find('.', i);
    if (end == std::string_view::npos) end = text.size();
    std::string_view part = text.substr(i, end - i);
    if (part.empty() || part.size() > 3 || (part.size() > 1 && part[0] == '0')) return std::nullopt;
    uint32_t n = 0;
    for (char c : part) {
      if (!is_digit(c)) return std::nullopt;
      n = n * 10 + static_cast<uint32_t>(c - '0');
    }
    if (n > 255 || ++parts > 4) return std::nullopt;
    value = (value << 8) | n;
    i = end + 1;
  }
  if (parts != 4) return std::nullopt;
  return IpAddress::v4(value);
}

bool ends_in_number(std::string_view host) {
  size_t dot = host.rfind('.');
  std::string_view last = dot == std::string_view::npos ? host : host.substr(dot + 1);
  if (last.empty()) return false;
  bool digits = true;
  for (char c : last) digits = digits && is_digit(c);
  if (digits) return true;
  if (last.size() >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X')) {
    for (char c : last.substr(2))
      if (!is_hex(c)) return false;
    return true;
  }
  return false;
}

Result<IpAddress> parse_ipv4_legacy(std::string_view text) {
  auto invalid = [&](const char* why) {
    return make_error("ip_invalid", std::string("not an IPv4 address (") + why + ")");
  };
  if (text.empty() || text.size() > kMaxIpText) return invalid("length");
  uint64_t numbers[4] = {};
  size_t n = 0, i = 0;
  while (i <= text.size()) {
    size_t end = text.find('.', i);
    if (end == std::string_view::npos) end = text.size();
    if (n == 4) return invalid("more than 4 parts");
    auto v = ipv4_number(text.substr(i, end - i));
    if (!v) return invalid("a part is not a number");
    numbers[n++] = *v;
    i = end + 1;
  }
  for (size_t k = 0; k + 1 < n; ++k)
    if (numbers[k] > 255) return invalid("a part is larger than 255");
  uint64_t last_limit = uint64_t{1} << (8 * (5 - n));
  if (numbers[n - 1] >= last_limit) return invalid("the last part is out of range");
  uint64_t value = numbers[n - 1];
  for (size_t k = 0; k + 1 < n; ++k) value += numbers[k] << (8 * (3 - k));
  return IpAddress::v4(static_cast<uint32_t>(value));
}

bool Cidr::contains(const IpAddress& a) const {
  if (a.family() != base.family()) return false;
  const auto& x = a.bytes();
  const auto& b = base.bytes();
  int bits = prefix;
  for (size_t i = 0; bits > 0; ++i, bits -= 8) {
    uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((x[i] & mask) != (b[i] & mask)) return false;
  }
  return true;
}

std::string Cidr::to_string() const { return base.to_string() + "/" + std::to_string(prefix); }

Result<Cidr> parse_cidr(std::string_view text) {
  auto invalid = [&](const std::string& why) {
    return make_error("cidr_invalid", "`" + std::string(text.substr(0, kMaxIpText)) + "` is not a CIDR range: " + why);
  };
  size_t slash = text.find('/');
  auto address = parse_ip_strict(text.substr(0, slash));
  if (!address) return invalid("expected an address like 10.0.0.0/8 or fd00::/8");
  Cidr c;
  c.base = *address;
  int max = address->is_v4() ? 32 : 128;
  c.prefix = max;
  if (slash != std::string_view::npos) {
    std::string_view p = text.substr(slash + 1);
    if (p.empty() || p.size() > 3 || (p.size() > 1 && p[0] == '0')) return invalid("bad prefix length");
    int n = 0;
    for (char ch : p) {
      if (!is_digit(ch)) return invalid("bad prefix length");
      n = n * 10 + (ch - '0');
    }
    if (n > max) return invalid("the prefix is longer than " + std::to_string(max));
    c.prefix = n;
  }
  // Host bits must be zero: "10.0.0.1/8" is more likely a mistake than a range.
  auto bytes = address->bytes();
  bool host_bits = false;
  for (size_t bit = static_cast<size_t>(c.prefix); bit < static_cast<size_t>(max); ++bit) {
    uint8_t m = static_cast<uint8_t>(0x80 >> (bit % 8));
    if (bytes[bit / 8] & m) host_bits = true;
    bytes[bit / 8] = static_cast<uint8_t>(bytes[bit / 8] & ~m);
  }
  if (host_bits) {
    IpAddress network = address->is_v4() ? IpAddress::v4((uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) |
                                                         (uint32_t{bytes[2]} << 8) | bytes[3])
                                         : IpAddress::v6(bytes);
    return invalid("host bits are set (the range is " + network.to_string() + "/" + std::to_string(c.prefix) + ")");
  }
  return c;
}

}  // namespace ztgate::egress
