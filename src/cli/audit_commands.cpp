// `ztgate audit verify|query|public-key`: the audit trail from the command
// line (src/audit). verify exits 0 when the trail is intact, 2 when it was
// tampered with (each problem named, with where), 1 on errors.
#include <boost/json.hpp>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "audit/checkpoint.h"
#include "audit/store.h"
#include "audit/verify.h"
#include "cli/cli_support.h"
#include "cli/commands.h"
#include "config/gateway_config.h"

namespace ztgate::cli {
namespace {

namespace json = boost::json;

struct TrailFlags {
  std::string config;
  std::string store;
  std::string public_key;
};

void add_trail_flags(CLI::App* cmd, TrailFlags& f) {
  cmd->add_option("--config", f.config, "ztgate.yaml: the trail it configures (audit.store, audit.public_key)");
  cmd->add_option("--store", f.store, "the audit store (SQLite) instead of --config");
  cmd->add_option("--public-key", f.public_key, "the audit public key (JWK); default: audit-key.jwk beside the store");
}

// The store and public key paths the flags name.
Result<std::pair<std::string, std::string>> trail_paths(const TrailFlags& f) {
  if (!f.config.empty()) {
    auto c = config::load_gateway_config(f.config);
    if (!c) return c.error();
    return std::make_pair(f.store.empty() ? c->audit.store : f.store,
                          f.public_key.empty() ? c->audit.public_key : f.public_key);
  }
  if (f.store.empty()) return make_error("usage", "name the trail with --config ztgate.yaml or --store audit.db");
  std::string key = f.public_key;
  if (key.empty()) key = (std::filesystem::path(f.store).parent_path() / "audit-key.jwk").string();
  return std::make_pair(f.store, key);
}

Result<std::optional<audit::CheckpointVerifier>> load_key(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::optional<audit::CheckpointVerifier>{};
  std::string jwk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (jwk.size() > 64 * 1024) return make_error("audit_key_invalid", path + " is too large to be a JWK");
  auto v = audit::CheckpointVerifier::from_jwk(jwk);
  if (!v) return make_error(v.error().code, path + ": " + v.error().message);
  return std::optional<audit::CheckpointVerifier>(std::move(*v));
}

// RFC 3339 UTC ("2026-11-24T08:00:00Z") or an age ("15m", "2h", "7d" ago).
Result<int64_t> parse_time_ms(const std::string& text) {
  if (text.empty()) return make_error("usage", "empty time");
  char unit = text.back();
  if (unit == 's' || unit == 'm' || unit == 'h' || unit == 'd') {
    int64_t n = 0;
    for (size_t i = 0; i + 1 < text.size(); ++i) {
      if (text[i] < '0' || text[i] > '9' || n > 1'000'000'000) return make_error("usage", "bad time `" + text + "`");
      n = n * 10 + (text[i] - '0');
    }
    int64_t mult = unit == 's' ? 1 : unit == 'm' ? 60 : unit == 'h' ? 3600 : 86400;
    return (now_s() - n * mult) * 1000;
  }
  // The trailing Z may be left out: the command line takes UTC anyway.
  auto t = audit::parse_utc_time_ms(text.back() == 'Z' ? text : text + "Z");
  if (!t) return make_error("usage", "bad time `" + text + "`: use 2026-11-24T08:00:00Z or an age like 15m, 2h, 7d");
  return *t;
}

std::string iso_ms(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
  return out;
}

std::string clip(const std::string& s, size_t width) {
  return s.size() <= width ? s : s.substr(0, width - 1) + "~";
}

int run_verify(const TrailFlags& flags, const std::string& file, bool as_json) {
  std::string key_path;
  Result<audit::VerifyReport> report = make_error("usage", "");
  if (!file.empty()) {
    key_path = flags.public_key;
    if (key_path.empty() && (!flags.config.empty() || !flags.store.empty())) {
      auto paths = trail_paths(flags);
      if (!paths) return fail(paths.error(), as_json);
      key_path = paths->second;
    }
    if (key_path.empty()) return fail(Error{"usage", "--file needs --public-key (or --config)"}, as_json);
    auto key = load_key(key_path);
    if (!key) return fail(key.error(), as_json);
    report = audit::verify_file(file, *key);
  } else {
    auto paths = trail_paths(flags);
    if (!paths) return fail(paths.error(), as_json);
    key_path = paths->second;
    auto key = load_key(key_path);
    if (!key) return fail(key.error(), as_json);
    auto store = audit::AuditStore::open(paths->first, /*read_only=*/true);
    if (!store) return fail(store.error(), as_json);
    report = audit::verify_store(**store, *key);
  }
  if (!report) return fail(report.error(), as_json);
  const auto& r = *report;
  if (as_json) {
    json::array problems;
    for (const auto& p : r.problems)
      problems.push_back(json::object{{"kind", p.kind}, {"seq", p.seq}, {"message", p.message}});
    std::cout << json::serialize(json::object{{"ok", r.ok()},
                                              {"records", r.records},
                                              {"first_seq", r.first_seq},
                                              {"last_seq", r.last_seq},
                                              {"checkpoints", r.checkpoints},
                                              {"sealed_seq", r.sealed_seq},
                                              {"problems", std::move(problems)},
                                              {"more_problems", r.more_problems}})
              << "\n";
  } else {
    if (r.ok()) {
      std::cout << "intact: " << r.records << " records";
      if (r.records) std::cout << " (" << r.first_seq << " to " << r.last_seq << ")";
      std::cout << ", " << r.checkpoints << " checkpoints verified with " << key_path << "\n";
    } else {
      std::cout << "TAMPERED: " << r.problems.size() + r.more_problems << " problem(s) in " << r.records << " records\n";
      for (const auto& p : r.problems) std::cout << "  " << p.kind << ": " << p.message << "\n";
      if (r.more_problems) std::cout << "  ... and " << r.more_problems << " more\n";
    }
    if (r.last_seq > r.sealed_seq && r.ok())
      std::cout << "note: records " << r.sealed_seq + 1 << " to " << r.last_seq
                << " are not sealed by a checkpoint yet (the next one will)\n";
  }
  return r.ok() ? kExitOk : kExitRefused;
}

struct QueryFlags {
  std::string since, until, format = "table";
  audit::Query q;
  size_t limit = 50;
  bool oldest_first = false;
};

int run_query(const TrailFlags& flags, QueryFlags& f, bool as_json) {
  if (as_json) f.format = "jsonl";
  if (f.format != "table" && f.format != "jsonl") return fail(Error{"usage", "--format is table or jsonl"}, as_json);
  if (!f.since.empty()) {
    auto t = parse_time_ms(f.since);
    if (!t) return fail(t.error(), as_json);
    f.q.since_ms = *t;
  }
  if (!f.until.empty()) {
    auto t = parse_time_ms(f.until);
    if (!t) return fail(t.error(), as_json);
    f.q.until_ms = *t;
  }
  auto paths = trail_paths(flags);
  if (!paths) return fail(paths.error(), as_json);
  auto store = audit::AuditStore::open(paths->first, /*read_only=*/true);
  if (!store) return fail(store.error(), as_json);
  f.q.newest_first = !f.oldest_first;
  size_t wanted = std::min<size_t>(f.limit, 1'000'000);
  size_t shown = 0;
  if (f.format == "table")
    std::printf("%-8s %-24s %-6s %-30s %-24s %-18s %-28s %s\n", "SEQ", "TIME", "DECIS", "PRINCIPAL", "AGENT", "ACTION",
                "RESOURCE", "FINDINGS");
  while (shown < wanted) {
    f.q.limit = std::min(wanted - shown, audit::kMaxQueryLimit);
    auto page = (*store)->query(f.q);
    if (!page) return fail(page.error(), as_json);
    for (const auto& r : page->records) {
      if (f.format == "jsonl") {
        std::cout << r.text << "\n";
      } else {
        std::printf("%-8llu %-24s %-6s %-30s %-24s %-18s %-28s %s\n", static_cast<unsigned long long>(r.seq),
                    iso_ms(r.event.time_ms).c_str(), r.event.decision.c_str(), clip(r.event.principal, 30).c_str(),
                    clip(r.event.agent, 24).c_str(), clip(r.event.action, 18).c_str(),
                    clip(r.event.resource, 28).c_str(), r.event.findings.c_str());
      }
    }
    shown += page->records.size();
    if (!page->next) break;
    if (f.q.newest_first) f.q.before_seq = *page->next;
    else f.q.after_seq = *page->next;
  }
  return kExitOk;
}

}  // namespace

void add_audit_commands(CLI::App& app, int& exit_code) {
  auto* audit = app.add_subcommand("audit", "The tamper-evident audit trail: verify it, search it");
  audit->require_subcommand(1);

  static TrailFlags verify_flags;
  static std::string verify_file;
  static bool verify_json = false;
  auto* verify = audit->add_subcommand(
      "verify", "Check the whole trail: chain, sequence, checkpoints' signatures, archives. Exit 0 intact, 2 tampered");
  add_trail_flags(verify, verify_flags);
  verify->add_option("--file", verify_file, "verify a JSON Lines file instead (an archive segment, a jsonl sink's file)");
  verify->add_flag("--json", verify_json, "machine-readable report");
  verify->callback([&exit_code] { exit_code = run_verify(verify_flags, verify_file, verify_json); });

  static TrailFlags query_flags;
  static QueryFlags q;
  static bool query_json = false;
  auto* query = audit->add_subcommand("query", "Search the trail (newest first)");
  add_trail_flags(query, query_flags);
  query->add_option("--since", q.since, "from this time: 2026-11-24T08:00:00Z, or an age: 15m, 2h, 7d");
  query->add_option("--until", q.until, "before this time (same forms)");
  query->add_option("--principal", q.q.principal, "on whose behalf, as a Cedar entity: 'User::\"alice\"'");
  query->add_option("--agent", q.q.agent, "the acting agent: 'Agent::\"helper\"'");
  query->add_option("--action", q.q.action, "e.g. invoke_model");
  query->add_option("--resource", q.q.resource, "a Cedar entity: 'Model::\"gpt-4o\"'");
  query->add_option("--decision", q.q.decision, "allow, deny or error");
  query->add_option("--finding", q.q.finding, "an inspection finding category");
  query->add_option("--route", q.q.route, "an endpoint, e.g. /v1/chat/completions");
  query->add_option("--request-id", q.q.request_id, "one request");
  query->add_option("--limit", q.limit, "at most this many records (default 50)");
  query->add_flag("--oldest-first", q.oldest_first, "oldest first instead");
  query->add_option("--format", q.format, "table (default) or jsonl (the sealed records)");
  query->add_flag("--json", query_json, "same as --format jsonl");
  query->callback([&exit_code] { exit_code = run_query(query_flags, q, query_json); });

  static TrailFlags key_flags;
  auto* key = audit->add_subcommand("public-key", "Print the public key (JWK) that verifies the trail's checkpoints");
  add_trail_flags(key, key_flags);
  key->callback([&exit_code] {
    auto paths = trail_paths(key_flags);
    if (!paths) {
      exit_code = fail(paths.error(), false);
      return;
    }
    std::ifstream in(paths->second);
    if (!in) {
      exit_code = fail(Error{"audit_key_missing", paths->second + " does not exist (the gateway writes it at start)"}, false);
      return;
    }
    std::cout << in.rdbuf();
    exit_code = kExitOk;
  });
}

}  // namespace ztgate::cli
