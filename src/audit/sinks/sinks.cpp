#include "audit/sinks/sinks.h"

#include <algorithm>
#include <set>

#include "audit/sinks/jsonl_sink.h"
#include "audit/sinks/syslog_sink.h"
#include "audit/sinks/webhook_sink.h"

namespace ztgate::audit {
namespace {

Error config_error(const SinkConfig& c, const std::string& what) {
  return make_error("audit_sink_config", "audit sink " + sink_key(c) + ": " + what);
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

struct HostPort {
  std::string host;
  uint16_t port = 0;
};

Result<HostPort> parse_address(std::string_view address) {
  auto bad = make_error("audit_sink_config", "address must be host:port or [IPv6]:port");
  HostPort out;
  std::string_view port;
  if (!address.empty() && address.front() == '[') {
    size_t close = address.find(']');
    if (close == std::string_view::npos || close + 1 >= address.size() || address[close + 1] != ':')
      return bad;
    out.host = std::string(address.substr(1, close - 1));
    port = address.substr(close + 2);
  } else {
    size_t colon = address.rfind(':');
    if (colon == std::string_view::npos || address.find(':') != colon) return bad;
    out.host = std::string(address.substr(0, colon));
    port = address.substr(colon + 1);
  }
  if (out.host.empty() || out.host.size() > 253 || port.empty() || port.size() > 5) return bad;
  for (char c : out.host)
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) return bad;
  int value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return bad;
    value = value * 10 + (c - '0');
  }
  if (value < 1 || value > 65535) return bad;
  out.port = static_cast<uint16_t>(value);
  return out;
}

}  // namespace

Result<SinkType> parse_sink_type(std::string_view text) {
  if (text == "jsonl") return SinkType::kJsonl;
  if (text == "syslog") return SinkType::kSyslog;
  if (text == "webhook") return SinkType::kWebhook;
  return make_error("audit_sink_config", "sink type must be jsonl, syslog or webhook");
}

std::string_view sink_type_name(SinkType type) {
  switch (type) {
    case SinkType::kJsonl:
      return "jsonl";
    case SinkType::kSyslog:
      return "syslog";
    case SinkType::kWebhook:
      return "webhook";
  }
  return "unknown";
}

std::string sink_key(const SinkConfig& config) {
  return std::string(sink_type_name(config.type)) + ":" + config.name;
}

Result<std::unique_ptr<Sink>> make_sink(const SinkConfig& c) {
  if (!valid_name(c.name)) return config_error(c, "name must be 1-64 of [A-Za-z0-9_.-]");
  if (c.batch < 1 || c.batch > kMaxSinkBatch)
    return config_error(c, "batch must be 1.." + std::to_string(kMaxSinkBatch));
  if (c.timeout.count() <= 0 || c.timeout > std::chrono::minutes(10))
    return config_error(c, "timeout must be between 1 ms and 10 minutes");
  switch (c.type) {
    case SinkType::kJsonl: {
      auto sink = JsonlSink::open({sink_key(c), c.path, c.rotate_bytes, c.keep});
      if (!sink) return sink.error();
      return std::unique_ptr<Sink>(std::move(*sink));
    }
    case SinkType::kSyslog: {
      auto address = parse_address(c.address);
      if (!address) return config_error(c, address.error().message);
      if (!c.tls && (!c.ca_file.empty() || !c.cert_file.empty() || !c.key_file.empty()))
        return config_error(c, "ca_file, cert_file and key_file need tls: true");
      SyslogSinkOptions o;
      o.name = sink_key(c);
      o.host = address->host;
      o.port = address->port;
      o.transport.tls = c.tls;
      o.transport.ca_file = c.ca_file;
      o.transport.cert_file = c.cert_file;
      o.transport.key_file = c.key_file;
      o.transport.connect_timeout = c.timeout;
      o.transport.write_timeout = c.timeout * 2;
      o.facility = c.facility;
      o.hostname = c.hostname;
      o.app_name = c.app_name;
      o.sd_id = c.sd_id;
      auto sink = SyslogSink::create(std::move(o));
      if (!sink) return sink.error();
      return std::unique_ptr<Sink>(std::move(*sink));
    }
    case SinkType::kWebhook: {
      if (!c.cert_file.empty() || !c.key_file.empty())
        return config_error(c, "client certificates are not supported for webhooks");
      WebhookSinkOptions o;
      o.name = sink_key(c);
      o.url = c.url;
      o.bearer_env = c.bearer_env;
      o.bearer_file = c.bearer_file;
      o.allow_plain_http = c.allow_plain_http;
      o.ca_file = c.ca_file;
      o.timeout = c.timeout;
      auto sink = WebhookSink::create(std::move(o));
      if (!sink) return sink.error();
      return std::unique_ptr<Sink>(std::move(*sink));
    }
  }
  return config_error(c, "unknown sink type");
}

SinkRunnerOptions runner_options(const SinkConfig& config, SinkRunnerOptions base) {
  base.max_batch_records = std::clamp<size_t>(config.batch, 1, kMaxSinkBatch);
  return base;
}

Status check_sink_list(const std::vector<SinkConfig>& configs) {
  if (configs.size() > kMaxSinks)
    return make_error("audit_sink_config", "at most " + std::to_string(kMaxSinks) + " audit sinks");
  std::set<std::string> keys;
  for (const auto& c : configs)
    if (!keys.insert(sink_key(c)).second)
      return make_error("audit_sink_config", "two audit sinks are named " + sink_key(c));
  return Ok{};
}

}  // namespace ztgate::audit
