#include "audit/sinks/syslog_sink.h"

#include <unistd.h>

#include <array>
#include <cstdio>
#include <ctime>
#include <utility>

namespace ztgate::audit {
namespace {

constexpr size_t kMaxSdValueBytes = 256;
constexpr std::string_view kBom = "\xEF\xBB\xBF";

bool printusascii(std::string_view s, size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s)
    if (static_cast<unsigned char>(c) < 33 || static_cast<unsigned char>(c) > 126) return false;
  return true;
}

// RFC 5424 SD-NAME; SD-IDs without "@" are reserved to IANA, so ours is
// name@<private enterprise number>.
bool valid_sd_id(std::string_view id) {
  if (!printusascii(id, 32)) return false;
  for (char c : id)
    if (c == '=' || c == ']' || c == '"') return false;
  size_t at = id.find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 == id.size()) return false;
  for (char c : id.substr(at + 1))
    if (c < '0' || c > '9') return false;
  return true;
}

// Length of the well-formed UTF-8 sequence at s[i] (1..4), 0 when malformed.
size_t utf8_length(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return k < s.size() ? static_cast<unsigned char>(s[k]) : 0u; };
  unsigned b0 = byte(i);
  if (b0 < 0x80) return 1;
  auto cont = [&](size_t k, unsigned lo = 0x80, unsigned hi = 0xBF) {
    return byte(k) >= lo && byte(k) <= hi;
  };
  if (b0 >= 0xC2 && b0 <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    unsigned lo = b0 == 0xE0 ? 0xA0 : 0x80,
             hi = b0 == 0xED ? 0x9F : 0xBF;  // no overlongs, no surrogates
    return cont(i + 1, lo, hi) && cont(i + 2) ? 3 : 0;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    unsigned lo = b0 == 0xF0 ? 0x90 : 0x80, hi = b0 == 0xF4 ? 0x8F : 0xBF;  // <= U+10FFFF
    return cont(i + 1, lo, hi) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  return 0;
}

std::string local_hostname() {
  std::array<char, 256> buf{};
  if (gethostname(buf.data(), buf.size() - 1) != 0) return "-";
  std::string out;
  for (char c : std::string_view(buf.data()))
    if (static_cast<unsigned char>(c) >= 33 && static_cast<unsigned char>(c) <= 126) out += c;
  return out.empty() ? std::string("-") : out;
}

}  // namespace

Result<int> syslog_facility(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, int>, 24> kFacilities{{
      {"kern", 0},      {"user", 1},    {"mail", 2},    {"daemon", 3},  {"auth", 4},
      {"syslog", 5},    {"lpr", 6},     {"news", 7},    {"uucp", 8},    {"cron", 9},
      {"authpriv", 10}, {"ftp", 11},    {"ntp", 12},    {"audit", 13},  {"alert", 14},
      {"clock", 15},    {"local0", 16}, {"local1", 17}, {"local2", 18}, {"local3", 19},
      {"local4", 20},   {"local5", 21}, {"local6", 22}, {"local7", 23},
  }};
  for (const auto& [n, code] : kFacilities)
    if (n == name) return code;
  return make_error("audit_sink_config",
                    "unknown syslog facility \"" + escape_sd_value(name) +
                        "\" (kern, user, mail, daemon, auth, syslog, lpr, news, uucp, cron, "
                        "authpriv, ftp, ntp, audit, alert, clock, local0..local7)");
}

int syslog_severity(std::string_view decision) {
  if (decision == "deny") return 4;   // warning
  if (decision == "allow") return 6;  // informational
  return 5;  // notice: "error" (refused before a decision) and anything else
}

std::string escape_sd_value(std::string_view value) {
  std::string out;
  for (size_t i = 0; i < value.size();) {
    size_t n = utf8_length(value, i);
    auto c = static_cast<unsigned char>(value[i]);
    std::string_view piece =
        n == 0 || c < 0x20 || c == 0x7f ? std::string_view("?") : value.substr(i, n);
    bool escape = piece == "\"" || piece == "\\" || piece == "]";
    if (out.size() + piece.size() + (escape ? 1 : 0) > kMaxSdValueBytes) break;
    if (escape) out += '\\';
    out += piece;
    i += n == 0 ? 1 : n;
  }
  return out;
}

std::string rfc3339_ms(int64_t time_ms) {
  constexpr int64_t kYear10000Ms = 253402300800000;  // 10000-01-01T00:00:00Z
  if (time_ms <= 0 || time_ms >= kYear10000Ms) return "-";
  time_t seconds = static_cast<time_t>(time_ms / 1000);
  tm utc{};
  if (gmtime_r(&seconds, &utc) == nullptr) return "-";
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(time_ms % 1000));
  return buf;
}

std::string format_rfc5424(const StoredRecord& record, const SyslogHeader& header) {
  const Event& e = record.event;
  std::string out;
  out.reserve(record.text.size() + 256);
  out += '<';
  out += std::to_string(header.facility * 8 + syslog_severity(e.decision));
  out += ">1 ";
  out += rfc3339_ms(e.time_ms);
  for (const std::string* field :
       {&header.hostname, &header.app_name, &header.procid, &header.msg_id}) {
    out += ' ';
    out += *field;
  }
  out += " [";
  out += header.sd_id;
  out += " seq=\"" + std::to_string(record.seq);
  out += "\" request_id=\"" + escape_sd_value(e.request_id);
  out += "\" decision=\"" + escape_sd_value(e.decision);
  out += "\" action=\"" + escape_sd_value(e.action);
  out += "\"] ";
  out += kBom;
  out += record.text;
  return out;
}

std::string octet_frame(std::string_view msg) {
  std::string out = std::to_string(msg.size());
  out += ' ';
  out += msg;
  return out;
}

Result<std::unique_ptr<SyslogSink>> SyslogSink::create(SyslogSinkOptions options) {
  auto bad = [&](const std::string& what) {
    return make_error("audit_sink_config", "sink " + options.name + ": " + what);
  };
  if (options.name.empty()) return make_error("audit_sink_config", "a syslog sink needs a name");
  if (options.host.empty() || options.port == 0) return bad("address must be host:port");
  auto facility = syslog_facility(options.facility);
  if (!facility) return bad(facility.error().message);
  SyslogHeader header;
  header.facility = *facility;
  header.hostname = options.hostname.empty() ? local_hostname() : options.hostname;
  header.app_name = options.app_name;
  header.procid = std::to_string(getpid());
  header.sd_id = options.sd_id;
  if (!printusascii(header.hostname, 255))
    return bad("hostname must be 1-255 printable ASCII characters");
  if (!printusascii(header.app_name, 48))
    return bad("app_name must be 1-48 printable ASCII characters");
  if (!valid_sd_id(header.sd_id))
    return bad(
        "sd_id must be name@<enterprise number> (at most 32 printable ASCII characters, no '=', "
        "']', '\"')");
  return std::unique_ptr<SyslogSink>(new SyslogSink(std::move(options), std::move(header)));
}

Status SyslogSink::deliver(const std::vector<StoredRecord>& batch) {
  if (connection_ && !connection_->alive()) connection_.reset();
  if (!connection_) {
    auto connected =
        net::StreamConnection::connect(options_.host, options_.port, options_.transport);
    if (!connected) return connected.error();
    connection_ = std::move(*connected);
  }
  std::string out;
  for (const auto& r : batch) out += octet_frame(format_rfc5424(r, header_));
  auto written = connection_->write_all(out);
  if (!written) connection_.reset();
  return written;
}

}  // namespace ztgate::audit
