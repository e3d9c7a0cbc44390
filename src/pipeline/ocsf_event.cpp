#include "pipeline/ocsf_event.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <cstring>
#include <memory>
#include <set>
#include <string>

#include "posture/file_digest.h"

namespace ztgate::pipeline {
namespace {

namespace json = boost::json;

// ---------------------------------------------------------------- text ---

// Length (2..4) of the well-formed UTF-8 sequence at p (RFC 3629 / Unicode
// Table 3-7), or 0 when p[0] does not start one.
size_t utf8_sequence(const unsigned char* p, size_t n) {
  auto cont = [&](size_t k, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return k < n && p[k] >= lo && p[k] <= hi;
  };
  unsigned char c = p[0];
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;  // no surrogates
  if (c == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;  // <= U+10FFFF
  return 0;
}

// Bytes that end a run of text copied as is: controls, '"', '\\', and every
// non-ASCII byte (checked as UTF-8).
constexpr std::array<bool, 256> kSpecial = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c)
    t[static_cast<size_t>(c)] = c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
  return t;
}();

// The longest prefix of `s` of at most `max` bytes that does not end inside
// a UTF-8 sequence (invalid bytes are escaped later anyway).
std::string_view utf8_prefix(std::string_view s, size_t max) {
  if (s.size() <= max) return s;
  size_t cut = max;
  for (int back = 0; back < 3 && cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80;
       ++back)
    --cut;
  return s.substr(0, cut);
}

// ---------------------------------------------------------- the writer ---

// A JSON text written front to back into a string used as a raw buffer (its
// size is the capacity; finish() trims it). member() and element() place the
// comma; the value writers that follow write the value itself. Nesting is
// bounded by the callers (fixed structure + kMaxFactDepth / kMaxRedactDepth).
class Writer {
 public:
  Writer(std::string& out, size_t initial) : out_(out) { out_.resize(initial); }

  // Positioning: a member of the current object, an element of the current array.
  Writer& member(std::string_view literal_key) {  // our own keys: plain ASCII
    char* p = room(literal_key.size() + 4);
    if (!first_[depth_]) *p++ = ',';
    first_[depth_] = false;
    *p++ = '"';
    std::memcpy(p, literal_key.data(), literal_key.size());
    p += literal_key.size();
    *p++ = '"';
    *p++ = ':';
    pos_ = static_cast<size_t>(p - out_.data());
    return *this;
  }
  Writer& member_text(std::string_view key) {  // a key from data: escaped
    comma();
    string(key);
    put(':');
    return *this;
  }
  Writer& element() {
    comma();
    return *this;
  }

  // Values.
  void open_object() { open('{'); }
  void close_object() { close('}'); }
  void open_array() { open('['); }
  void close_array() { close(']'); }
  void string(std::string_view s) {
    // Most values need no escaping: copied in the same pass that checks
    // them, the rest (from the first special byte) through escaped().
    char* p = room(s.size() + 2);
    *p++ = '"';
    const auto* u = reinterpret_cast<const unsigned char*>(s.data());
    size_t i = 0;
    for (; i < s.size() && !kSpecial[u[i]]; ++i) p[i] = s[i];
    pos_ += 1 + i;
    if (i < s.size()) escaped(s.substr(i));
    put('"');
  }
  // Text inside a string value already opened with raw("\"...").
  void escaped(std::string_view s);
  void integer(int64_t n) { number(n); }
  void unsigned_integer(uint64_t n) { number(n); }
  void real(double d) {
    if (!std::isfinite(d)) return raw("null");
    char* p = room(32);
    pos_ = static_cast<size_t>(std::to_chars(p, p + 32, d).ptr - out_.data());
  }
  void boolean(bool b) { raw(b ? "true" : "false"); }
  void null() { raw("null"); }
  void raw(std::string_view text) {
    char* p = room(text.size());
    std::memcpy(p, text.data(), text.size());
    pos_ += text.size();
  }

  // Shorthands for members.
  void str(std::string_view key, std::string_view value) { member(key).string(value); }
  void num(std::string_view key, int64_t value) { member(key).integer(value); }
  void flag(std::string_view key, bool value) { member(key).boolean(value); }

  size_t size() const { return pos_; }
  // Undo everything written after a mark (a bounded attempt that gave up).
  struct Mark {
    size_t pos;
    size_t depth;
    bool first;
  };
  Mark mark() const { return {pos_, depth_, first_[depth_]}; }
  void rewind(const Mark& m) {
    pos_ = m.pos;
    depth_ = m.depth;
    first_[depth_] = m.first;
  }
  void finish() { out_.resize(pos_); }

 private:
  // The common case inline; growing (rare: the buffer starts at a typical
  // event's size) out of line.
  char* room(size_t n) {
    if (pos_ + n > out_.size()) [[unlikely]]
      grow(n);
    return out_.data() + pos_;
  }
  [[gnu::noinline]] void grow(size_t n) { out_.resize(std::max(out_.size() * 2, pos_ + n)); }
  void put(char c) { *room(1) = c, ++pos_; }
  template <typename N>
  void number(N n) {
    char* p = room(24);
    pos_ = static_cast<size_t>(std::to_chars(p, p + 24, n).ptr - out_.data());
  }
  void comma() {
    if (!first_[depth_]) put(',');
    first_[depth_] = false;
  }
  void open(char c) {
    put(c);
    ++depth_;
    first_[depth_] = true;
  }
  void close(char c) {
    put(c);
    --depth_;
  }

  std::string& out_;
  size_t pos_ = 0;
  size_t depth_ = 0;
  std::array<bool, 96>
      first_{};  // >= fixed structure (~6) + max(kMaxRedactDepth, kMaxFactDepth) + 1
};

// Invalid UTF-8: one U+FFFD per byte.
void Writer::escaped(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    size_t run = i;
    while (i < n && !kSpecial[p[i]]) ++i;
    if (i > run) raw(s.substr(run, i - run));
    if (i == n) break;
    unsigned char c = p[i];
    if (c >= 0x80) {
      size_t len = utf8_sequence(p + i, n - i);
      if (len != 0) {
        raw(s.substr(i, len));
        i += len;
      } else {
        raw("\\ufffd");
        ++i;
      }
      continue;
    }
    switch (c) {
      case '"':
        raw("\\\"");
        break;
      case '\\':
        raw("\\\\");
        break;
      case '\n':
        raw("\\n");
        break;
      case '\r':
        raw("\\r");
        break;
      case '\t':
        raw("\\t");
        break;
      case '\b':
        raw("\\b");
        break;
      case '\f':
        raw("\\f");
        break;
      default: {
        const char u[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        raw(std::string_view(u, 6));
      }
    }
    ++i;
  }
}

static_assert(kMaxRedactDepth + 16 < 96 && kMaxFactDepth + 16 < 96);

// Adapter facts (context, usage, details): any JSON value, depth-bounded.
void write_fact(Writer& w, const json::value& v, int depth) {
  switch (v.kind()) {
    case json::kind::null:
      w.null();
      return;
    case json::kind::bool_:
      w.boolean(v.get_bool());
      return;
    case json::kind::int64:
      w.integer(v.get_int64());
      return;
    case json::kind::uint64:
      w.unsigned_integer(v.get_uint64());
      return;
    case json::kind::double_:
      w.real(v.get_double());
      return;
    case json::kind::string:
      w.string(v.get_string());
      return;
    case json::kind::array:
      if (depth >= kMaxFactDepth) return w.null();
      w.open_array();
      for (const auto& e : v.get_array()) write_fact(w.element(), e, depth + 1);
      w.close_array();
      return;
    case json::kind::object:
      if (depth >= kMaxFactDepth) return w.null();
      w.open_object();
      for (const auto& m : v.get_object()) write_fact(w.member_text(m.key()), m.value(), depth + 1);
      w.close_object();
      return;
  }
}

// ------------------------------------------------------------ payloads ---

// SHA-256 with the algorithm fetched once and one context per thread: the
// one-shot calls fetch it on every call (~0.2 us), which redacted mode
// would pay once per string.
bool sha256(std::string_view bytes, unsigned char (&out)[32]) {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  struct Free {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  thread_local std::unique_ptr<EVP_MD_CTX, Free> ctx(EVP_MD_CTX_new());
  unsigned int len = 0;
  return md != nullptr && ctx != nullptr && EVP_DigestInit_ex2(ctx.get(), md, nullptr) == 1 &&
         EVP_DigestUpdate(ctx.get(), bytes.data(), bytes.size()) == 1 &&
         EVP_DigestFinal_ex(ctx.get(), out, &len) == 1 && len == 32;
}

// "sha256":"<64 lowercase hex>"
void sha256_member(Writer& w, std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  unsigned char d[32];
  if (!sha256(bytes, d)) return w.str("sha256", posture::sha256_hex(bytes));  // the one-shot path
  char hex[66];
  hex[0] = hex[65] = '"';
  for (size_t i = 0; i < 32; ++i) {
    hex[1 + 2 * i] = kHex[d[i] >> 4];
    hex[2 + 2 * i] = kHex[d[i] & 15];
  }
  w.member("sha256").raw(std::string_view(hex, sizeof hex));
}

void write_hash_form(Writer& w, std::string_view payload, std::string_view why_not_redacted) {
  w.open_object();
  w.num("length", static_cast<int64_t>(payload.size()));
  sha256_member(w, payload);
  if (!why_not_redacted.empty()) w.str("redaction", why_not_redacted);
  w.close_object();
}

// Writes `v` with every string replaced; false when the output passed `limit`.
bool write_redacted(Writer& w, const json::value& v, size_t depth, size_t limit) {
  if (w.size() > limit) return false;
  switch (v.kind()) {
    case json::kind::string: {
      const json::string& s = v.get_string();
      w.open_object();
      w.flag("redacted", true);
      w.num("length", static_cast<int64_t>(s.size()));
      sha256_member(w, s);
      w.close_object();
      return true;
    }
    case json::kind::array:
      if (depth >= kMaxRedactDepth) return false;
      w.open_array();
      for (const auto& e : v.get_array())
        if (!write_redacted(w.element(), e, depth + 1, limit)) return false;
      w.close_array();
      return true;
    case json::kind::object:
      if (depth >= kMaxRedactDepth) return false;
      w.open_object();
      for (const auto& m : v.get_object())
        if (!write_redacted(w.member_text(m.key()), m.value(), depth + 1, limit)) return false;
      w.close_object();
      return true;
    default:
      write_fact(w, v, 0);  // null, bool, number
      return true;
  }
}

void write_redacted_form(Writer& w, std::string_view payload, size_t max_bytes) {
  if (payload.size() > kMaxRedactInputBytes) return write_hash_form(w, payload, "too_large");
  json::monotonic_resource mr;
  json::parse_options opts;
  opts.max_depth = kMaxRedactDepth;  // deeper: a parse error, then the hash form
  std::error_code ec;
  json::value v = json::parse(payload, ec, &mr, opts);
  if (ec) return write_hash_form(w, payload, ec == json::error::too_deep ? "too_deep" : "not_json");
  const Writer::Mark mark = w.mark();
  w.open_object();
  w.num("length", static_cast<int64_t>(payload.size()));
  sha256_member(w, payload);
  w.member("json");
  if (!write_redacted(w, v, 0, mark.pos + max_bytes)) {
    w.rewind(mark);
    return write_hash_form(w, payload, "too_large");
  }
  w.close_object();
}

void write_full_form(Writer& w, std::string_view payload, size_t max_bytes) {
  std::string_view kept = utf8_prefix(payload, max_bytes);
  w.open_object();
  w.num("length", static_cast<int64_t>(payload.size()));
  w.str("text", kept);
  w.flag("truncated", kept.size() < payload.size());
  w.close_object();
}

// api.request.data / api.response.data, when the mode keeps anything.
void write_payload(Writer& w, std::string_view payload, const EventOptions& o) {
  w.member("data");
  switch (o.payload_mode) {
    case PayloadMode::kNone:
      w.null();
      return;  // not reached: callers check
    case PayloadMode::kHash:
      return write_hash_form(w, payload, "");
    case PayloadMode::kRedacted:
      return write_redacted_form(w, payload, o.max_payload_bytes);
    case PayloadMode::kFull:
      return write_full_form(w, payload, o.max_payload_bytes);
  }
}

// ------------------------------------------------------------- mapping ---

struct Enum {
  int id;
  std::string_view caption;
};

// API Activity's activity_id. The schema's activities are CRUD; a model call
// (chat, embeddings) creates a completion (OpenAI names them "Create ..."), a
// listing or a PDP query (an evaluation changes nothing) reads.
Enum activity_of(const Exchange& x, std::string_view operation, std::string_view method) {
  if (x.pdp_query || operation == "list") return {2, "Read"};
  if (!operation.empty()) return {1, "Create"};
  if (method == "GET" || method == "HEAD") return {2, "Read"};
  if (method == "POST") return {1, "Create"};
  if (method == "PUT" || method == "PATCH") return {3, "Update"};
  if (method == "DELETE") return {4, "Delete"};
  if (method == "CONNECT") return {1, "Create"};  // an egress tunnel: a connection is created
  return {0, "Unknown"};
}

struct Outcome {
  std::string_view decision;  // the indexed value
  Enum action;                // security_control action_id
  Enum disposition;           // security_control disposition_id
  Enum severity;
};

constexpr Enum kInformational{1, "Informational"}, kLow{2, "Low"}, kMedium{3, "Medium"};

Outcome outcome_of(const Exchange& x) {
  if (x.verdict) {
    // Allowed by policy, then refused by a control that runs after it (the
    // egress SSRF floor): the exchange was denied.
    if (x.verdict->decision == cedar::Decision::kAllow && x.ending && x.ending->status == 403)
      return {"deny", {2, "Denied"}, {2, "Blocked"}, kMedium};
    if (x.verdict->decision == cedar::Decision::kAllow)
      return {"allow", {1, "Allowed"}, {1, "Allowed"}, x.status >= 500 ? kLow : kInformational};
    if (x.pdp_query)
      return {"deny", {2, "Denied"}, {26, "Unauthorized"}, kInformational};     // an answer
    if (!x.enforced) return {"deny", {3, "Observed"}, {15, "Detected"}, kLow};  // shadow mode
    return {"deny", {2, "Denied"}, {26, "Unauthorized"}, kMedium};
  }
  if (!x.ending && x.status >= 100 && x.status < 400)  // decided per item by the adapter
    return {"allow", {1, "Allowed"}, {1, "Allowed"}, kInformational};
  if (x.status == 401 || x.status == 403) return {"error", {2, "Denied"}, {2, "Blocked"}, kLow};
  if (x.status >= 500 || x.status == 0) return {"error", {2, "Denied"}, {27, "Error"}, kLow};
  return {"error", {2, "Denied"}, {25, "Rejected"}, kLow};
}

bool type_is(std::string_view type, std::string_view name) {
  if (type == name) return true;
  return type.size() > name.size() + 2 && type.substr(type.size() - name.size()) == name &&
         type.substr(type.size() - name.size() - 2, 2) == "::";
}

std::string_view string_at(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

const json::object* object_at(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}

// "ip:port" or "[v6]:port".
void write_src_endpoint(Writer& w, std::string_view remote) {
  std::string_view ip = remote, port;
  if (!remote.empty() && remote.front() == '[') {
    size_t end = remote.find(']');
    if (end != std::string_view::npos) {
      ip = remote.substr(1, end - 1);
      if (end + 1 < remote.size() && remote[end + 1] == ':') port = remote.substr(end + 2);
    }
  } else if (size_t colon = remote.rfind(':');
             colon != std::string_view::npos && remote.find(':') == colon) {
    ip = remote.substr(0, colon);
    port = remote.substr(colon + 1);
  }
  w.member("src_endpoint").open_object();
  w.str("ip", ip);
  int p = 0;
  auto r = std::from_chars(port.data(), port.data() + port.size(), p);
  if (!port.empty() && r.ec == std::errc() && r.ptr == port.data() + port.size() && p > 0 &&
      p < 65536)
    w.num("port", p);
  w.close_object();
}

// Egress: where the exchange went (context.destination), and the address
// connected to once every check passed.
void write_dst_endpoint(Writer& w, const json::object& destination, std::string_view connected) {
  w.member("dst_endpoint").open_object();
  std::string_view host = string_at(destination, "host");
  std::string_view ip = !connected.empty() ? connected : string_at(destination, "ip");
  if (!host.empty() && host != ip) w.str("hostname", host);
  if (!ip.empty()) w.str("ip", ip);
  const json::value* port = destination.if_contains("port");
  if (port != nullptr && port->is_int64()) w.num("port", port->get_int64());
  w.close_object();
}

void write_user(Writer& w, const authn::EntityRef& who) {
  w.member("user").open_object();
  w.str("uid", who.id);
  w.str("name", who.id);
  if (type_is(who.type, "User")) {
    w.num("type_id", 1);
    w.str("type", "User");
  } else {
    w.num("type_id", 99);  // Other: the Cedar entity type says what it is
    w.str("type", who.type);
  }
  w.close_object();
}

void write_ai_model(Writer& w, const authn::EntityRef& model, const Exchange& x,
                    const EventOptions& o) {
  w.member("ai_model").open_object();
  w.str("name", model.id);
  w.str("uid", model.id);
  std::string_view provider =
      !o.model_provider.empty() ? o.model_provider : std::string_view(x.upstream);
  if (!provider.empty()) w.str("ai_provider", provider);
  w.close_object();
}

void write_policy(Writer& w, const Verdict& v, size_t i) {
  w.member("policy").open_object();
  w.str("uid", v.determining[i]);
  // names holds the @id of each determining policy that has one, in order:
  // they pair up only when every policy has one.
  if (v.names.size() == v.determining.size()) w.str("name", v.names[i]);
  w.flag("is_applied", true);
  w.close_object();
}

void write_authorizations(Writer& w, const Outcome& out, const Exchange& x) {
  w.member("authorizations").open_array();
  if (x.verdict && !x.verdict->determining.empty()) {
    size_t n = std::min(x.verdict->determining.size(), kMaxListedPolicies);
    // Each policy with the policy decision (a later control may have refused an allow).
    std::string_view policy_decision = x.verdict->decision == cedar::Decision::kAllow ? "allow" : "deny";
    for (size_t i = 0; i < n; ++i) {
      w.element().open_object();
      w.str("decision", policy_decision);
      write_policy(w, *x.verdict, i);
      w.close_object();
    }
  } else {
    w.element().open_object();
    w.str("decision", out.decision);  // a default deny, or no decision
    w.close_object();
  }
  w.close_array();
}

void write_decision_facts(Writer& w, const Verdict& v) {
  w.member("decision").open_object();
  w.flag("cached", v.cached);
  w.num("policies", static_cast<int64_t>(v.determining.size()));
  if (!v.names.empty() && v.names.size() != v.determining.size()) {
    w.member("policy_names").open_array();
    for (size_t i = 0; i < v.names.size() && i < kMaxListedPolicies; ++i)
      w.element().string(v.names[i]);
    w.close_array();
  }
  if (v.obligations.on_deny != DenyObligation::kNone || !v.obligations.redact.empty() ||
      !v.obligations.pseudonymize.empty() || v.obligations.spotlight) {
    w.member("obligations").open_object();
    if (v.obligations.on_deny != DenyObligation::kNone)
      w.str("on_deny", to_string(v.obligations.on_deny));
    for (const auto& [name, list] : {std::pair{"redact", &v.obligations.redact},
                                     std::pair{"pseudonymize", &v.obligations.pseudonymize}}) {
      if (list->empty()) continue;
      w.member(name).open_array();
      for (const auto& c : *list) w.element().string(c);
      w.close_array();
    }
    if (v.obligations.spotlight) w.str("spotlight", v.obligations.spotlight->empty() ? "default" : *v.obligations.spotlight);
    w.close_object();
  }
  if (!v.errors.empty()) {
    w.num("errors_total", static_cast<int64_t>(v.errors.size()));
    w.member("errors").open_array();
    for (size_t i = 0; i < v.errors.size() && i < kMaxListedErrors; ++i) {
      w.element().open_object();
      w.str("policy", v.errors[i].policy_id);
      w.str("message", utf8_prefix(v.errors[i].message, kMaxErrorMessageBytes));
      w.close_object();
    }
    w.close_array();
  }
  w.close_object();
}

int64_t unix_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

std::string_view to_string(PayloadMode mode) {
  switch (mode) {
    case PayloadMode::kNone:
      return "none";
    case PayloadMode::kHash:
      return "hash";
    case PayloadMode::kRedacted:
      return "redacted";
    case PayloadMode::kFull:
      return "full";
  }
  return "none";
}

namespace {

// The record's finding index: "injection" for a flagged text, "hidden_text",
// and each rule category, space-separated, each once.
std::string finding_categories(const json::array& findings) {
  std::set<std::string> all;
  for (const auto& f : findings) {
    const auto& o = f.as_object();
    if (const auto* flagged = o.if_contains("flagged"); flagged && flagged->is_bool() && flagged->as_bool())
      all.insert(o.contains("kind") ? std::string(o.at("kind").as_string()) : "finding");
    if (const auto* hidden = o.if_contains("hidden_text"); hidden && hidden->is_bool() && hidden->as_bool())
      all.insert("hidden_text");
    if (const auto* c = o.if_contains("categories"); c && c->is_array())
      for (const auto& s : c->as_array())
        if (s.is_string()) all.emplace(s.as_string());
  }
  std::string out;
  for (const auto& s : all) out += (out.empty() ? "" : " ") + s;
  return out;
}

}  // namespace

audit::Event ocsf_event(const Exchange& x, const EventOptions& o) {
  audit::Event e;
  e.time_ms = unix_ms(x.started_wall);
  e.request_id = x.request_id;
  e.route = x.route;

  // Who: the chain's user (or the authenticated party) and the acting agent.
  const authn::EntityRef* principal = !x.chain.empty() ? &x.chain.front()
                                      : x.identity     ? &x.identity->principal
                                                       : nullptr;
  const authn::EntityRef* agent = x.chain.size() >= 2                              ? &x.chain.back()
                                  : principal && type_is(principal->type, "Agent") ? principal
                                                                                   : nullptr;
  if (principal) e.principal = principal->to_cedar();
  if (agent) e.agent = agent->to_cedar();

  // What: the action and resource the decision was about (a PDP query's own
  // request when the adapter did not set them).
  authn::EntityRef resource = x.resource;
  std::string_view action = x.action;
  if (x.request && action.empty()) action = x.request->action.id;
  if (x.request && resource.type.empty())
    resource = {x.request->resource.type, x.request->resource.id};
  e.action = std::string(action);
  if (!resource.type.empty()) e.resource = resource.to_cedar();

  const Outcome out = outcome_of(x);
  e.decision = std::string(out.decision);
  e.findings = finding_categories(x.findings);

  const json::object* request_facts = object_at(x.context, "request");
  std::string_view operation =
      request_facts ? string_at(*request_facts, "operation") : std::string_view();
  const Enum activity = activity_of(x, operation, o.http_method);
  const int64_t time = e.time_ms;
  auto ended = o.ended.value_or(std::chrono::steady_clock::now());
  const int64_t total_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(ended - x.started).count();
  const int64_t duration_ms = total_ns / 1000000;

  const json::object* device = object_at(x.context, "device");
  const json::value* present = device ? device->if_contains("present") : nullptr;
  const bool device_known = present != nullptr && present->is_bool() && present->get_bool();
  const bool keep_payloads = o.payload_mode != PayloadMode::kNone;

  // Typical events are 2-3 KiB; payload modes may add up to twice max_payload_bytes.
  Writer w(e.json, o.payload_mode == PayloadMode::kNone ? 4096 : 8192);
  w.open_object();

  // Classification (category 6 Application Activity, class 6003 API Activity).
  w.num("category_uid", 6);
  w.str("category_name", "Application Activity");
  w.num("class_uid", 6003);
  w.str("class_name", "API Activity");
  w.num("activity_id", activity.id);
  w.str("activity_name", activity.caption);
  w.num("type_uid", 6003 * 100 + activity.id);
  w.member("type_name").raw("\"API Activity: ");
  w.raw(activity.caption);
  w.raw("\"");
  w.num("severity_id", out.severity.id);
  w.str("severity", out.severity.caption);
  if (x.status == 0) {
    w.num("status_id", 0);
    w.str("status", "Unknown");
  } else {
    w.num("status_id", x.status < 400 ? 1 : 2);
    w.str("status", x.status < 400 ? "Success" : "Failure");
    char code[12];
    auto r = std::to_chars(code, code + sizeof code, x.status);
    w.str("status_code", std::string_view(code, static_cast<size_t>(r.ptr - code)));
  }
  if (x.ending && !x.ending->code.empty())
    w.str("status_detail", x.ending->code);
  else if (!x.upstream_error.empty())
    w.str("status_detail", x.upstream_error);
  w.member("message").raw("\"");  // "<decision> <action>"
  w.raw(out.decision);
  if (!action.empty()) {
    w.raw(" ");
    w.escaped(action);
  }
  w.raw("\"");
  w.num("time", time);
  w.num("start_time", time);
  w.num("end_time", time + duration_ms);
  w.num("duration", duration_ms);

  // metadata
  w.member("metadata").open_object();
  w.str("version", kOcsfVersion);
  w.member("product").open_object();
  w.str("name", "ztgate");
  w.str("vendor_name", "ztgate");
  if (!o.product_version.empty()) w.str("version", o.product_version);
  w.close_object();
  w.str("uid", x.request_id);
  if (!o.trace_id.empty()) w.str("correlation_uid", o.trace_id);
  w.str("log_name", "audit");
  w.member("profiles").open_array();
  w.element().string("ai_operation");
  w.element().string("security_control");
  w.element().string("record_integrity");
  if (device_known) w.element().string("host");
  w.close_array();
  w.close_object();

  // actor: the user on whose behalf, and the decision (authorizations)
  w.member("actor").open_object();
  if (principal) {
    write_user(w, *principal);
  } else {
    w.member("user").open_object();
    w.num("type_id", 0);
    w.str("type", "Unknown");
    w.close_object();
  }
  if (x.identity && !x.identity->authn.issuer.empty()) {
    w.member("idp").open_object();
    w.str("name", x.identity->authn.issuer);
    w.close_object();
  }
  write_authorizations(w, out, x);
  w.close_object();

  // ai_operation profile: the agent, the model, the delegation, token counts
  const bool model = type_is(resource.type, "Model");
  if (agent) {
    w.member("ai_agent").open_object();
    w.str("uid", agent->id);
    w.str("name", agent->id);
    w.num("type_id", 0);
    w.str("type", "Unknown");
    if (model) write_ai_model(w, resource, x, o);
    w.close_object();
  } else if (model) {
    write_ai_model(w, resource, x, o);
  }
  if (x.chain.size() >= 2) {
    const json::object* d = object_at(x.context, "delegation");
    std::string_view uid = !o.delegation_uid.empty() ? o.delegation_uid
                           : d                       ? string_at(*d, "task")
                                                     : std::string_view();
    if (!uid.empty()) {
      w.member("delegation").open_object();
      w.str("uid", uid);
      w.str("issuer_uid", "ztgate");
      const json::value* scopes = d ? d->if_contains("scopes") : nullptr;
      if (scopes && scopes->is_array()) write_fact(w.member("scopes"), *scopes, kMaxFactDepth - 1);
      w.close_object();
    }
  }
  if (!x.usage.empty()) {
    w.member("message_context").open_object();
    for (std::string_view k : {"prompt_tokens", "completion_tokens", "total_tokens"}) {
      const json::value* n = x.usage.if_contains(k);
      if (n && n->is_int64()) w.num(k, n->get_int64());
    }
    w.member("service").open_object();
    w.str("name", x.upstream.empty() ? x.adapter : x.upstream);
    w.close_object();
    w.close_object();
  }

  // security_control profile: what the control did
  w.num("action_id", out.action.id);
  w.str("action", out.action.caption);
  w.num("disposition_id", out.disposition.id);
  w.str("disposition", out.disposition.caption);
  if (x.verdict && !x.verdict->determining.empty()) write_policy(w, *x.verdict, 0);

  // Where from, what, how
  if (!x.remote.empty()) write_src_endpoint(w, x.remote);
  const json::object* destination = object_at(x.context, "destination");
  if (destination) write_dst_endpoint(w, *destination, x.destination_address);
  if (device_known) {
    w.member("device").open_object();
    w.num("type_id", 0);
    w.str("type", "Unknown");
    std::string_view id = string_at(*device, "device_id");
    if (!id.empty()) w.str("uid", id);
    const json::value* managed = device->if_contains("managed");
    if (managed && managed->is_bool()) w.flag("is_managed", managed->get_bool());
    w.close_object();
  }
  w.member("api").open_object();
  w.str("operation", operation.empty() ? std::string_view(x.route) : operation);
  w.member("service").open_object();
  w.str("name", x.adapter);
  w.close_object();
  w.member("request").open_object();
  w.str("uid", x.request_id);
  if (keep_payloads) write_payload(w, o.request_payload, o);
  w.close_object();
  w.member("response").open_object();
  if (x.status != 0) w.num("code", x.status);
  if (x.ending && !x.ending->code.empty()) w.str("error", x.ending->code);
  if (keep_payloads) write_payload(w, o.response_payload, o);
  w.close_object();
  w.close_object();
  w.member("http_request").open_object();
  if (!o.http_method.empty()) w.str("http_method", o.http_method);
  w.member("url").open_object();
  w.str("path", x.route);
  w.close_object();
  w.close_object();
  if (x.status != 0) {
    w.member("http_response").open_object();
    w.num("code", x.status);
    w.close_object();
  }
  if (!resource.type.empty()) {
    w.member("resources").open_array();
    w.element().open_object();
    w.str("type", resource.type);
    w.str("uid", resource.id);
    w.str("name", resource.id);
    w.close_object();
    w.close_array();
  }

  // unmapped: ztgate's own facts, in Cedar's terms
  w.member("unmapped").open_object();
  w.num("config_version", static_cast<int64_t>(o.config_version));
  w.str("adapter", x.adapter);
  if (!e.principal.empty()) w.str("principal", e.principal);
  if (!x.chain.empty()) {
    w.member("chain").open_array();
    for (const auto& c : x.chain) w.element().string(c.to_cedar());
    w.close_array();
  }
  if (!action.empty()) w.str("action", authn::EntityRef{"Action", std::string(action)}.to_cedar());
  if (!e.resource.empty()) w.str("resource", e.resource);
  if (x.pdp_query && x.request) {
    w.member("query").open_object();
    w.str("principal",
          authn::EntityRef{x.request->principal.type, x.request->principal.id}.to_cedar());
    w.str("action", authn::EntityRef{x.request->action.type, x.request->action.id}.to_cedar());
    w.str("resource", e.resource);
    w.close_object();
  }
  if (x.identity) {
    w.member("authn").open_object();
    w.str("method", x.identity->authn.method);
    if (!x.identity->authn.issuer.empty()) w.str("issuer", x.identity->authn.issuer);
    w.flag("mfa", x.identity->authn.mfa);
    w.close_object();
  }
  w.flag("enforced", x.enforced);
  w.flag("shadow", x.shadow);
  if (x.verdict) write_decision_facts(w, *x.verdict);
  if (request_facts) write_fact(w.member("request"), x.context.at("request"), 0);
  if (device) write_fact(w.member("device"), x.context.at("device"), 0);
  if (destination) write_fact(w.member("destination"), x.context.at("destination"), 0);
  if (!x.upstream.empty() || !x.upstream_error.empty() || x.output_bytes > 0) {
    w.member("upstream").open_object();
    if (!x.upstream.empty()) w.str("id", x.upstream);
    if (!x.upstream_error.empty()) w.str("error", x.upstream_error);
    w.num("output_bytes", static_cast<int64_t>(x.output_bytes));
    w.num("output_chunks", static_cast<int64_t>(x.output_chunks));
    w.close_object();
  }
  if (!x.usage.empty()) {
    w.member("usage").open_object();
    for (const auto& m : x.usage) write_fact(w.member_text(m.key()), m.value(), kMaxFactDepth - 1);
    w.close_object();
  }
  if (!x.details.empty()) {
    w.member("details").open_object();
    for (const auto& m : x.details) write_fact(w.member_text(m.key()), m.value(), 1);
    w.close_object();
  }
  w.member("latency_ns").open_object();
  for (const auto& t : x.timings) w.member_text(t.stage).integer(t.ns);
  w.num("total", total_ns);
  w.close_object();
  w.str("payload_mode", to_string(o.payload_mode));
  w.member("findings").open_array();
  for (const auto& f : x.findings) write_fact(w.element(), f, 1);
  w.close_array();
  w.close_object();

  w.close_object();
  w.finish();
  return e;
}

}  // namespace ztgate::pipeline
