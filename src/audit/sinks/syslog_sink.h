// SyslogSink: records to a syslog receiver (a SIEM, rsyslog, syslog-ng) as
// RFC 5424 messages over TCP (RFC 6587) or TLS (RFC 5425), one message per
// record, framed by octet counting ("<len> <message>", RFC 6587 §3.4.1 /
// RFC 5425 §4.3): the record may hold any byte, no delimiter can break it.
//
//   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD-ID seq="" request_id=""
//   decision="" action=""] BOM{sealed record}
//
//   PRI        facility (configured) * 8 + severity from the decision:
//              deny -> warning (4), error -> notice (5), allow -> info (6),
//              anything else -> notice
//   TIMESTAMP  the event's time, RFC 3339 UTC with milliseconds
//              (2026-11-24T08:19:13.123Z); "-" when unknown
//   HOSTNAME   configured, else gethostname(); APP-NAME "ztgate" by
//              default; PROCID the process id; MSGID "audit"
//   SD         one element, SD-ID configurable (default ztgate@32473, the
//              example enterprise number of RFC 5612: use your own PEN);
//              values escaped per RFC 5424 §6.3.3 (\" \\ \]), control bytes
//              and invalid UTF-8 replaced by '?', each at most 256 bytes
//   MSG        the UTF-8 BOM then the sealed record exactly as stored, never
//              truncated: the receiver's maximum message size must allow
//              the largest record (rsyslog: global(maxMessageSize="64k") or
//              more; its default of 8k cuts records).
//
// Delivery: one connection, kept open and re-established (connect timeout)
// when it fails or the peer closed it; the batch is written in one go
// (write timeout) and any failure fails the batch, which the runner sends
// again: at least once. TCP has no receipt acknowledgement: bytes accepted
// by the kernel just before the peer dies can be lost; the sink checks the
// connection before each batch to narrow that window (stream_client.h).
//
// Error codes: audit_sink_config; net_resolve, net_connect, net_tls,
// net_timeout, net_io (stream_client.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "audit/sink.h"
#include "net/stream_client.h"

namespace ztgate::audit {

// The constant parts of every message.
struct SyslogHeader {
  int facility = 10;  // authpriv
  std::string hostname;
  std::string app_name = "ztgate";
  std::string procid;
  std::string msg_id = "audit";
  std::string sd_id = "ztgate@32473";
};

// RFC 5424 facility names (kern, user, mail, daemon, auth, syslog, lpr,
// news, uucp, cron, authpriv, ftp, ntp, audit, alert, clock, local0..7) to
// codes 0..23. Error audit_sink_config.
Result<int> syslog_facility(std::string_view name);
int syslog_severity(std::string_view decision);
// RFC 5424 §6.3.3 PARAM-VALUE escaping, plus the sanitizing above.
std::string escape_sd_value(std::string_view value);
// "2026-11-24T08:19:13.123Z", or "-" for time_ms <= 0 or past year 9999.
std::string rfc3339_ms(int64_t time_ms);
// One SYSLOG-MSG for `record`.
std::string format_rfc5424(const StoredRecord& record, const SyslogHeader& header);
// "<byte length of msg> <msg>".
std::string octet_frame(std::string_view msg);

struct SyslogSinkOptions {
  std::string name;  // cursor key, e.g. "syslog:siem"
  std::string host;  // receiver host name or IP literal
  uint16_t port = 0;
  net::StreamClientOptions transport;  // tls, ca_file, cert/key files, timeouts
  std::string facility = "authpriv";
  std::string hostname;  // "" = gethostname()
  std::string app_name = "ztgate";
  std::string sd_id = "ztgate@32473";
};

class SyslogSink final : public Sink {
 public:
  // Checks the options (names, SD-ID syntax); does not connect yet.
  static Result<std::unique_ptr<SyslogSink>> create(SyslogSinkOptions options);

  const std::string& name() const override { return options_.name; }
  Status deliver(const std::vector<StoredRecord>& batch) override;

 private:
  SyslogSink(SyslogSinkOptions options, SyslogHeader header)
      : options_(std::move(options)), header_(std::move(header)) {}

  SyslogSinkOptions options_;
  SyslogHeader header_;
  std::unique_ptr<net::StreamConnection> connection_;
};

}  // namespace ztgate::audit
