#include "pipeline/audit_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace ztgate::pipeline {
namespace {

namespace json = boost::json;

std::string iso_millis(std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

json::array strings(const std::vector<std::string>& items) {
  json::array out;
  for (const auto& s : items) out.emplace_back(s);
  return out;
}

}  // namespace

namespace {

// One audit line, written straight into a string: the record is built for
// every request, and a Boost.JSON object per line was ~7% of a PDP
// decision's CPU. Same output as serializing the object would give.
class Line {
 public:
  Line() { out_.reserve(768); }
  Line& str(std::string_view key, std::string_view value) {
    name(key);
    quoted(value);
    return *this;
  }
  Line& num(std::string_view key, int64_t value) {
    name(key);
    out_ += std::to_string(value);
    return *this;
  }
  Line& boolean(std::string_view key, bool value) {
    name(key);
    out_ += value ? "true" : "false";
    return *this;
  }
  Line& strings(std::string_view key, const std::vector<std::string>& values) {
    name(key);
    out_ += '[';
    for (size_t i = 0; i < values.size(); ++i) {
      if (i) out_ += ',';
      quoted(values[i]);
    }
    out_ += ']';
    return *this;
  }
  Line& raw(std::string_view key, std::string_view json) {
    name(key);
    out_ += json;
    return *this;
  }
  std::string done() {
    out_ += '}';
    return std::move(out_);
  }

 private:
  void name(std::string_view key) {
    out_ += first_ ? '{' : ',';
    first_ = false;
    quoted(key);
    out_ += ':';
  }
  void quoted(std::string_view s) {
    static const char* hex = "0123456789abcdef";
    out_ += '"';
    size_t plain = 0;  // runs that need no escaping are appended whole
    for (size_t i = 0; i < s.size(); ++i) {
      auto c = static_cast<unsigned char>(s[i]);
      if (c >= 0x20 && c != '"' && c != '\\') continue;
      out_.append(s.data() + plain, i - plain);
      plain = i + 1;
      switch (c) {
        case '"': out_ += "\\\""; break;
        case '\\': out_ += "\\\\"; break;
        case '\n': out_ += "\\n"; break;
        case '\r': out_ += "\\r"; break;
        case '\t': out_ += "\\t"; break;
        case '\b': out_ += "\\b"; break;
        case '\f': out_ += "\\f"; break;
        default:
          if (c < 0x20) {
            out_ += "\\u00";
            out_ += hex[c >> 4];
            out_ += hex[c & 15];
          }
      }
    }
    out_.append(s.data() + plain, s.size() - plain);
    out_ += '"';
  }

  std::string out_{};
  bool first_ = true;
};

}  // namespace

std::string audit_record(const Exchange& x, uint64_t config_version) {
  Line r;
  r.str("time", iso_millis(x.started_wall)).str("request_id", x.request_id).str("adapter", x.adapter);
  r.str("route", x.route);
  if (!x.remote.empty()) r.str("remote", x.remote);
  if (x.identity) r.str("principal", x.identity->principal.to_cedar()).str("authn", x.identity->authn.method);
  if (!x.chain.empty()) {
    std::vector<std::string> chain;
    for (const auto& e : x.chain) chain.push_back(e.to_cedar());
    r.strings("chain", chain);
  }
  if (!x.action.empty()) r.str("action", authn::EntityRef{"Action", x.action}.to_cedar());
  if (!x.resource.type.empty()) r.str("resource", x.resource.to_cedar());
  if (x.verdict) {
    const Verdict& v = *x.verdict;
    r.str("decision", v.decision == cedar::Decision::kAllow ? "allow" : "deny");
    r.strings("policies", v.determining);
    if (!v.names.empty()) r.strings("policy_names", v.names);
    if (!v.errors.empty()) {
      json::array errors;
      for (const auto& e : v.errors) errors.emplace_back(json::object{{"policy", e.policy_id}, {"message", e.message}});
      r.raw("policy_errors", json::serialize(errors));
    }
    json::object obligations;
    if (v.obligations.on_deny != DenyObligation::kNone) obligations["on_deny"] = to_string(v.obligations.on_deny);
    if (!v.obligations.redact.empty()) obligations["redact"] = strings(v.obligations.redact);
    if (!obligations.empty()) r.raw("obligations", json::serialize(obligations));
    r.boolean("cached", v.cached);
  }
  r.boolean("enforced", x.enforced);
  if (x.shadow) r.boolean("shadow", true);
  r.num("status", x.status);
  if (x.ending && !x.ending->code.empty()) r.str("error", x.ending->code);
  if (!x.upstream.empty()) r.str("upstream", x.upstream);
  if (!x.upstream_error.empty()) r.str("upstream_error", x.upstream_error);
  if (x.output_bytes > 0) r.num("output_bytes", static_cast<int64_t>(x.output_bytes));
  if (!x.usage.empty()) r.raw("usage", json::serialize(x.usage));
  Line latency;
  for (const auto& t : x.timings) latency.num(t.stage, t.ns);
  auto total = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - x.started);
  latency.num("total", static_cast<int64_t>(total.count()));
  r.raw("latency_ns", latency.done());
  r.num("config_version", static_cast<int64_t>(config_version));
  if (!x.details.empty()) r.raw("details", json::serialize(x.details));
  return r.done();
}

Result<std::unique_ptr<AuditLog>> AuditLog::open(const std::string& path) {
  if (path == "-") return std::unique_ptr<AuditLog>(new AuditLog(STDOUT_FILENO, false));
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return make_error("audit_open", "cannot open the audit log `" + path + "`: " + std::strerror(errno));
  return std::unique_ptr<AuditLog>(new AuditLog(fd, true));
}

AuditLog::AuditLog(int fd, bool owned) : fd_(fd), owned_(owned), writer_([this] { writer_loop(); }) {
  std::lock_guard lock(mu_);
  pending_.reserve(2 * kFlushBytes);
}

AuditLog::~AuditLog() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  writer_.join();
  flush();
  if (owned_) ::close(fd_);
}

void AuditLog::write(const std::string& line) {
  std::unique_lock lock(mu_);
  pending_ += line;
  pending_ += '\n';
  if (pending_.size() < kFlushBytes) return;
  if (pending_.size() < kMaxPendingBytes) {
    lock.unlock();
    wake_.notify_one();
    return;
  }
  // The writer is far behind: write here rather than grow without bound.
  std::string batch;
  batch.swap(pending_);
  std::lock_guard io(io_mu_);  // taken while mu_ is held: keeps queue order
  lock.unlock();
  write_out(batch);
}

bool AuditLog::flush() {
  std::unique_lock lock(mu_);
  std::string batch;
  batch.swap(pending_);
  std::lock_guard io(io_mu_);
  lock.unlock();
  return batch.empty() || write_out(batch);
}

void AuditLog::writer_loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    wake_.wait_for(lock, kFlushInterval, [this] { return stop_ || pending_.size() >= kFlushBytes; });
    if (pending_.empty()) continue;
    spare_.swap(pending_);  // pending_ takes the spare's capacity
    {
      std::lock_guard io(io_mu_);  // always mu_ then io_mu_, never the reverse
      lock.unlock();
      write_out(spare_);
    }
    spare_.clear();
    // A batch from a writer that fell far behind is not kept resident.
    if (spare_.capacity() > 4 * kFlushBytes) std::string().swap(spare_);
    lock.lock();
  }
}

bool AuditLog::write_out(const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // Count the lines lost with this batch: the gateway's metrics report it.
      size_t lines = 0;
      for (size_t i = done; i < data.size(); ++i) lines += data[i] == '\n';
      failures_ += lines;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

uint64_t AuditLog::failures() const { return failures_.load(); }

}  // namespace ztgate::pipeline
