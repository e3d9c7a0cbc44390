// ztgate.yaml as a whole: the identity sections (identity_config.h), models
// and posture (posture_config.h), policies (policy_config.h), and the
// gateway's own below (docs/CONFIGURATION.md). `ztgate config check` loads
// it all — the YAML strictly, then every file it names (policies validated
// against the schema, entities, JWKS files, CA bundles, signing key) —
// without starting anything. Unknown keys are errors with file, line and the
// key path.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "audit/sinks/sinks.h"
#include "authn/identity.h"
#include "config/identity_config.h"
#include "config/mcp_config.h"
#include "config/policy_config.h"
#include "config/retrieval_config.h"
#include "egress/address_class.h"
#include "egress/zones.h"

namespace ztgate::config {

// listeners: [ {address, port, tls?} ] and limits: {...}. One listener for now.
struct TlsSettings {
  std::string cert_file;  // PEM chain, leaf first
  std::string key_file;   // PEM private key
  std::string client_ca_file;        // "" = no client certificates asked for
  bool require_client_cert = false;  // with client_ca_file: refuse the handshake without one
};

struct ListenerSettings {
  std::string address = "127.0.0.1";
  int port = 8080;  // 0: any free port, printed at start
  std::optional<TlsSettings> tls;
};

// `durability: async | sync` (true = sync) of an audit section.
bool read_durability(MapReader& m);

// A listener's `address`, `port` and `tls` keys (listeners[], egress.listener).
ListenerSettings read_listener(MapReader& l, const std::string& dir);

// egress: the forward proxy listener and the egress guard (egress_config.cpp,
// docs/CONFIGURATION.md "Egress"). Zones, allow_addresses, timeouts, the
// service principal and audit durability take effect on reload; the
// listener and the limits at start.
struct EgressSettings {
  std::optional<ListenerSettings> listener;  // absent: no proxy listener (the guard API still works)
  authn::EntityRef service_principal{"Service", "ztgate"};  // the gateway's own connections
  egress::ZoneMap zones;             // zones: [ {name, hosts: [patterns]} ]
  egress::AddressPolicy addresses;   // allow_addresses: CIDRs exempt from the SSRF floor
  int64_t resolve_timeout_ms = 2000;
  int64_t connect_timeout_ms = 5000;
  int64_t request_timeout_ms = 30'000;   // to receive a request's head and body
  int64_t response_timeout_ms = 60'000;  // plain HTTP: the upstream's head, and between body bytes
  int64_t idle_timeout_ms = 60'000;      // a tunnel or a kept-alive client with no bytes either way
  int64_t tunnel_max_s = 86'400;         // a tunnel's whole life
  int64_t max_connections = 1024;
  int64_t max_tunnels = 256;
  int64_t max_header_bytes = 16 * 1024;
  int64_t max_body_bytes = 10 << 20;     // plain HTTP request bodies (buffered)
  int64_t threads = 2;
  int64_t resolver_threads = 4;
  int64_t resolver_max_pending = 256;
  bool audit_sync = false;               // audit.durability: answer or connect only once the decision is durable
};
EgressSettings read_egress_settings(MapReader& egress, const std::string& dir);

// upstreams: [ {id, url, api_key_env | api_key_file, ca_file, timeout, connect_timeout} ]
// An OpenAI-compatible server. The gateway holds its credential; clients
// never send or see it.
struct UpstreamSettings {
  std::string id;
  std::string host;
  int port = 80;          // default 80, or 443 for https
  bool tls = false;       // https: verified chain and name, SNI
  std::string ca_file;    // trusted CAs for an https upstream ("" = the system's)
  std::string base_path;  // from the url, without a trailing '/': "/v1"
  std::string api_key;    // read from the env variable or file at load time ("" = none)
  int64_t timeout_s = 120;
  int64_t connect_timeout_s = 5;
};

// routes: [ {path, shadow, audit: {durability, payload}} ]: per-endpoint settings.
struct RouteSettings {
  std::string path;     // an endpoint, e.g. /v1/chat/completions
  bool shadow = false;  // decide and record, but do not enforce denies
  std::optional<bool> audit_sync;  // audit.durability here ("" = the audit section's)
  std::string audit_payload;       // audit.payload here ("" = the audit section's)
  // A canary token (inspection.dlp) goes into the system prompt of this
  // route's chat requests; an answer carrying it is blocked (prompt leak).
  bool canary = false;
};

// audit: the trail (docs/AUDIT.md). Store, key and queue settings take
// effect at start; durability and payload (and the routes') on reload.
struct AuditSettings {
  std::string store;       // SQLite file; default <data_dir>/audit.db
  std::string key;         // Ed25519 checkpoint key (PKCS#8 PEM); default <data_dir>/audit-key.pem
  std::string public_key;  // its public JWK, written at start; default <data_dir>/audit-key.jwk
  bool sync = false;       // durability: async | sync (the routes' default)
  std::string payload = "none";  // none | hash | redacted | full (the routes' default)
  int64_t max_payload_bytes = 64 * 1024;
  int64_t commit_interval_ms = 10;   // async records are durable within this (store healthy)
  int64_t sync_timeout_ms = 2000;    // a sync route waits this long, then fails closed
  int64_t checkpoint_every = 1000;   // records per signed checkpoint
  int64_t checkpoint_interval_ms = 5000;
  int64_t max_pending_records = 50'000;  // queue bound: over it requests get 503 audit_unavailable
  int64_t max_pending_bytes = int64_t{64} << 20;
  // retention: 0 = unbounded. Records beyond a bound are archived (a JSON
  // Lines segment with its checkpoints, in archive_dir) and then deleted.
  int64_t retention_max_records = 0;
  int64_t retention_max_bytes = 0;
  int64_t retention_max_age_s = 0;
  int64_t retention_interval_s = 60;
  std::string archive_dir;  // default <data_dir>/audit-archive
  std::vector<audit::SinkConfig> sinks;  // audit.sinks: JSON Lines files, syslog, webhooks
};

// inspection: content inspection (docs/CONFIGURATION.md "Inspection",
// docs/DETECTION.md). Every text an adapter hands the pipeline (prompts,
// tool results, tool descriptions) is scored for injection per channel and
// exposed to policy as context.content.injection. Read at start and on
// reload (a reload with the same files reuses the loaded detector).
// inspection.dlp: data-loss prevention on answers (docs/CONFIGURATION.md
// "DLP"). Which categories are redacted is policy (@redact) plus `redact`;
// how is `modes`.
struct DlpSettings {
  bool enabled = true;
  std::string rules_dir;                  // default: the rules/dlp ztgate ships
  std::vector<std::string> dictionaries;  // custom terms, one per line (category custom)
  std::vector<std::string> redact;        // categories redacted in every answer: pii, secrets, custom
  std::map<std::string, std::string> modes;  // category or kind -> mask|partial|hash|drop|pseudonymize|keep|block
  std::string key_file;  // HMAC key of hash, pseudonyms and canaries; default <data_dir>/dlp.key (made 0600)
};

struct InspectionSettings {
  bool enabled = true;
  std::string rules_dir;   // default: the rules/injection ztgate ships
  std::string model_path;  // default: the models/injection.bin ztgate ships
  // Compiled rule databases, reused across starts. Default
  // $XDG_CACHE_HOME/ztgate (or ~/.cache/ztgate); "off" keeps none.
  std::string cache_dir;
  int64_t rule_threshold = 60;      // a rule score this high flags by itself
  // Bounds per exchange: a longer text or more texts are refused (413
  // inspection_too_large) rather than passed uninspected.
  int64_t max_text_bytes = int64_t{4} << 20;
  int64_t max_texts = 256;
  std::string spotlight = "datamark";  // the default @spotlight mode: delimit | datamark
  DlpSettings dlp;
};

struct LimitSettings {
  int64_t max_header_bytes = 16 * 1024;
  int64_t max_body_bytes = 1024 * 1024;
  int64_t request_timeout_s = 30;
  int64_t idle_timeout_s = 60;
  int64_t drain_timeout_s = 10;
  int64_t max_connections = 1024;
  int64_t threads = 2;
};

struct GatewayConfig {
  std::string file;  // the configuration file (reload reads it again)
  IdentityConfig identity;
  std::vector<UpstreamSettings> upstreams;
  std::vector<RouteSettings> routes;
  AuditSettings audit;
  // decision_cache: {max_entries, max_bytes}; max_entries 0 turns it off.
  int64_t decision_cache_entries = 100'000;
  int64_t decision_cache_bytes = int64_t{64} << 20;
  bool reload_watch = true;          // reload.watch: poll the files for changes
  int64_t reload_interval_ms = 2000; // reload.interval
  std::optional<PolicySettings> policies;
  std::vector<ListenerSettings> listeners;
  LimitSettings limits;
  EgressSettings egress;
  std::string public_url = "https://localhost:8443";  // gateway.public_url: how clients reach us
  bool pdp_requires_authentication = true;            // pdp.require_authentication
  // pdp.authorize_callers: an authenticated caller needs Action::"query_pdp"
  // on Pdp::"authzen" / Pdp::"cedar" (authorize_stage.cpp).
  bool pdp_authorize_callers = true;
  // gateway.explain_denials: name the determining policies in deny answers
  // (helps rollout; off by default, since policy names may say too much).
  bool explain_denials = false;
  // pdp.authzen_legacy_properties: read entity members beside type/id as
  // properties, as the AuthZEN interop todo decision files do.
  bool pdp_legacy_properties = false;
  McpSettings mcp;  // mcp: the MCP gateway (off when it lists no servers)
  InspectionSettings inspection;
  RetrievalSettings retrieval;  // retrieval: the document catalog (docs/RETRIEVAL.md)
};

Result<GatewayConfig> load_gateway_config(const std::string& path);
// The same from text (`label` names it in errors; relative paths resolve
// against `dir`), and from a parsed document.
Result<GatewayConfig> parse_gateway_config(std::string_view text, const std::string& label, const std::string& dir);
Result<GatewayConfig> read_gateway_config(const YAML::Node& doc, const std::string& path, const std::string& dir);

const UpstreamSettings* find_upstream(const GatewayConfig& c, std::string_view id);
// A credential named by `env_key` (an environment variable) or `file_key`
// (a file, first line), never written in the YAML itself: bounded to 4096
// bytes of printable ASCII. "" when neither key is set; errors go to `m`.
std::string read_secret(MapReader& m, const std::string& env_key, const std::string& file_key, const std::string& dir);
bool route_is_shadow(const GatewayConfig& c, std::string_view path);
// The route's audit durability (true = sync) and payload mode, with the
// audit section's defaults.
bool route_audit_sync(const GatewayConfig& c, std::string_view path);
const std::string& route_audit_payload(const GatewayConfig& c, std::string_view path);
// Every file the configuration depends on (itself, policies, schema,
// entities): what hot reload watches.
std::vector<std::string> watched_files(const GatewayConfig& c);

}  // namespace ztgate::config
