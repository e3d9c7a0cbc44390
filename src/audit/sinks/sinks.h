// The configured sinks of `audit.sinks` (docs/CONFIGURATION.md): one
// SinkConfig per entry, and make_sink() to build the Sink it describes.
//
//   jsonl    path, rotate_bytes, keep           (jsonl_sink.h)
//   syslog   address, tls, ca_file, cert_file, key_file, facility,
//            hostname, app_name, sd_id          (syslog_sink.h)
//   webhook  url, bearer_env | bearer_file, ca_file, allow_plain_http
//                                               (webhook_sink.h)
//   all      name, timeout, batch
//
// The sink's name (its cursor key in the store) is "<type>:<name>": two
// entries must not share a type and name (check_sink_list() refuses that).
// `batch` is the runner's batch size for that sink (SinkRunnerOptions::
// max_batch_records: records per syslog write or webhook POST); `timeout`
// bounds a syslog connect (write: twice it) or a whole webhook exchange.
//
// Error code: audit_sink_config (and the sinks' own, e.g. audit_sink_io when
// a jsonl file cannot be opened).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "audit/sink.h"
#include "audit/sink_runner.h"
#include "common/result.h"

namespace ztgate::audit {

enum class SinkType { kJsonl, kSyslog, kWebhook };

// "jsonl", "syslog", "webhook"; error audit_sink_config otherwise.
Result<SinkType> parse_sink_type(std::string_view text);
std::string_view sink_type_name(SinkType type);

inline constexpr size_t kMaxSinks = 16;
inline constexpr size_t kMaxSinkBatch = 5000;

struct SinkConfig {
  SinkType type = SinkType::kJsonl;
  std::string name;  // [A-Za-z0-9_.-]{1,64}

  // jsonl
  std::string path;
  uint64_t rotate_bytes = uint64_t{100} << 20;  // 0 = never
  uint32_t keep = 10;

  // syslog: "host:port" or "[v6 literal]:port"
  std::string address;
  bool tls = false;
  std::string ca_file;    // syslog TLS and webhook https; "" = system trust store
  std::string cert_file;  // syslog TLS client certificate (PEM); "" = none
  std::string key_file;
  std::string facility = "authpriv";
  std::string hostname;  // "" = this machine's name
  std::string app_name = "ztgate";
  std::string sd_id = "ztgate@32473";

  // webhook
  std::string url;
  std::string bearer_env;
  std::string bearer_file;
  bool allow_plain_http = false;

  std::chrono::milliseconds timeout{10'000};
  size_t batch = 500;  // 1..kMaxSinkBatch
};

// "<type>:<name>": the Sink's name() and cursor key.
std::string sink_key(const SinkConfig& config);

Result<std::unique_ptr<Sink>> make_sink(const SinkConfig& config);

// The runner options for `config`: `base` (store path, log, intervals) with
// the sink's batch size.
SinkRunnerOptions runner_options(const SinkConfig& config, SinkRunnerOptions base);

// Checks a whole `audit.sinks` list: at most kMaxSinks, unique keys.
Status check_sink_list(const std::vector<SinkConfig>& configs);

}  // namespace ztgate::audit
