// GET /admin/v1/audit: search the audit trail over HTTP. An admin action
// like any other exchange: the caller authenticates, and Cedar decides
// `Action::"read_audit"` on `AuditTrail::"default"` (docs/POLICY_GUIDE.md);
// the query itself is recorded in the trail.
//
// Parameters (all optional; unknown ones are refused): since, until (RFC
// 3339 UTC like 2026-11-24T08:00:00Z, or Unix milliseconds), principal,
// agent, action, resource, decision, finding, route, request_id, limit
// (1..1000, default 100), order (newest | oldest, default newest), cursor
// (from the previous page's next_cursor).
// Answer: {"records":[<sealed OCSF records>],"next_cursor":N|null}.
#include <boost/url/parse.hpp>

#include <charconv>

#include "audit/store.h"
#include "gateway/adapter.h"
#include "pipeline/snapshot.h"

namespace ztgate::gateway {
namespace {

std::optional<int64_t> parse_number(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

std::optional<int64_t> parse_time_ms(const std::string& s) {
  if (auto n = parse_number(s)) return n;
  return audit::parse_utc_time_ms(s);
}

class AuditQueryCall final : public AdapterCall {
 public:
  explicit AuditQueryCall(audit::Query q) : q_(std::move(q)) {}

  AdapterAnswer respond(pipeline::Exchange& x) override {
    auto store = audit::AuditStore::open(x.snapshot->config.audit.store, /*read_only=*/true);
    if (!store) return json_error(503, "audit_unavailable", "the audit store cannot be read", x.request_id);
    auto page = (*store)->query(q_);
    if (!page) return json_error(503, "audit_unavailable", "the audit store cannot be read", x.request_id);
    std::string body = "{\"records\":[";
    for (size_t i = 0; i < page->records.size(); ++i) {
      if (i) body += ',';
      body += page->records[i].text;  // sealed records are JSON objects, as stored
    }
    body += "],\"next_cursor\":";
    body += page->next ? std::to_string(*page->next) : std::string("null");
    body += '}';
    x.details["records"] = static_cast<int64_t>(page->records.size());
    return HttpResponse{200, "application/json", {}, std::move(body), {}, {}};
  }

 private:
  audit::Query q_;
};

}  // namespace

std::unique_ptr<AdapterCall> start_audit_query(const HttpRequest& request, pipeline::Exchange& x) {
  x.adapter = "admin";
  x.action = "read_audit";
  x.resource = authn::EntityRef{"AuditTrail", "default"};
  auto bad = [&](std::string message) {
    x.ending = pipeline::Ending{400, "invalid_query", std::move(message), {}, ""};
    return std::unique_ptr<AdapterCall>();
  };
  auto url = boost::urls::parse_origin_form(request.target);
  if (!url) return bad("the query string does not parse");
  audit::Query q;
  q.limit = 100;
  size_t count = 0;
  for (auto param : url->params()) {
    if (++count > 32) return bad("too many parameters");
    std::string key = param.key, value = param.value;
    if (value.size() > 1024) return bad("parameter `" + key.substr(0, 32) + "` is too long");
    if (key == "since" || key == "until") {
      auto t = parse_time_ms(value);
      if (!t) return bad(key + " must be RFC 3339 UTC (2026-11-24T08:00:00Z) or Unix milliseconds");
      (key == "since" ? q.since_ms : q.until_ms) = *t;
    } else if (key == "principal") {
      q.principal = value;
    } else if (key == "agent") {
      q.agent = value;
    } else if (key == "action") {
      q.action = value;
    } else if (key == "resource") {
      q.resource = value;
    } else if (key == "decision") {
      q.decision = value;
    } else if (key == "finding") {
      q.finding = value;
    } else if (key == "route") {
      q.route = value;
    } else if (key == "request_id") {
      q.request_id = value;
    } else if (key == "limit") {
      auto n = parse_number(value);
      if (!n || *n < 1 || *n > static_cast<int64_t>(audit::kMaxQueryLimit)) return bad("limit must be 1 to 1000");
      q.limit = static_cast<size_t>(*n);
    } else if (key == "order") {
      if (value != "newest" && value != "oldest") return bad("order must be newest or oldest");
      q.newest_first = value == "newest";
    } else if (key == "cursor") {
      auto n = parse_number(value);
      if (!n) return bad("cursor must be a next_cursor from a previous page");
      q.after_seq = q.before_seq = static_cast<uint64_t>(*n);
    } else {
      return bad("unknown parameter `" + key.substr(0, 32) + "`");
    }
  }
  if (q.newest_first) q.after_seq = 0;
  else q.before_seq = 0;
  return std::make_unique<AuditQueryCall>(std::move(q));
}

}  // namespace ztgate::gateway
