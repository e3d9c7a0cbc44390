#include "gateway/chat_answer_filter.h"

#include <boost/json.hpp>

#include <map>

#include "inspect/stream_redactor.h"
#include "pipeline/output_redaction.h"

namespace ztgate::gateway {
namespace {

namespace json = boost::json;

std::string blocked_error(const pipeline::Exchange& x) {
  return json::serialize(json::object{
      {"error", json::object{{"code", "output_blocked"},
                             {"message", "the answer was stopped: it carried content that policy blocks"},
                             {"request_id", x.request_id}}}});
}

// --- JSON answers -------------------------------------------------------------

class JsonAnswerFilter final : public BodyFilter {
 public:
  explicit JsonAnswerFilter(pipeline::Exchange& x) : x_(x) {}

  std::string feed(std::string_view chunk) override {
    if (held_.size() + chunk.size() > kMaxHeldAnswerBytes) {
      too_large_ = true;
      return {};
    }
    held_.append(chunk);
    return {};
  }

  std::string finish() override {
    if (too_large_) {
      status_ = 502;
      x_.upstream_error = "output_too_large";
      return json::serialize(json::object{
          {"error", json::object{{"code", "output_too_large"},
                                 {"message", "the answer is too large to be inspected before it is released"},
                                 {"request_id", x_.request_id}}}});
    }
    boost::system::error_code ec;
    json::value v = json::parse(held_, ec);
    bool changed = false, blocked = false;
    auto redact = [&](json::value& text, const std::string& source) {
      if (!text.is_string() || text.as_string().empty()) return;
      auto r = pipeline::redact_answer_text(x_, text.as_string(), source);
      blocked = blocked || r.blocked;
      if (r.text != text.as_string()) {
        changed = true;
        text = r.text;
      }
    };
    if (!ec && v.is_object() && v.as_object().contains("choices")) {
      if (auto* choices = v.as_object()["choices"].if_array()) {
        for (size_t i = 0; i < choices->size(); ++i) {
          auto* message = (*choices)[i].is_object() ? (*choices)[i].as_object().if_contains("message") : nullptr;
          if (message == nullptr || !message->is_object()) continue;
          std::string at = "choices[" + std::to_string(i) + "].message.";
          auto& m = message->as_object();
          if (auto* content = m.if_contains("content")) {
            if (content->is_array()) {
              for (size_t p = 0; p < content->as_array().size(); ++p)
                if (auto* part = content->as_array()[p].if_object())
                  if (auto* t = part->if_contains("text")) redact(*t, at + "content[" + std::to_string(p) + "]");
            } else {
              redact(*content, at + "content");
            }
          }
          if (auto* refusal = m.if_contains("refusal")) redact(*refusal, at + "refusal");
          if (auto* calls = m.if_contains("tool_calls"); calls && calls->is_array())
            for (size_t c = 0; c < calls->as_array().size(); ++c)
              if (auto* call = calls->as_array()[c].if_object())
                if (auto* fn = call->if_contains("function"); fn && fn->is_object())
                  if (auto* args = fn->as_object().if_contains("arguments"))
                    redact(*args, at + "tool_calls[" + std::to_string(c) + "].arguments");
        }
      }
    } else if (!ec) {
      // JSON, not a completion (an upstream error...): every string in it.
      auto r = pipeline::redact_answer_json(x_, v, "body");
      blocked = r.blocked;
      changed = r.changed;
    } else if (!held_.empty()) {
      // Not JSON at all: the bytes as text.
      auto r = pipeline::redact_answer_text(x_, held_, "body");
      blocked = r.blocked;
      if (r.text != held_) {
        changed = true;
        held_ = std::move(r.text);
      }
      if (!blocked) return std::move(held_);
    }
    if (blocked) {
      status_ = 403;
      x_.details["output_blocked"] = true;
      return blocked_error(x_);
    }
    // Nothing found: the upstream's bytes as they were.
    return changed ? json::serialize(v) : std::move(held_);
  }

  bool ended() const override { return false; }
  int status() const override { return status_; }

 private:
  pipeline::Exchange& x_;
  std::string held_;
  bool too_large_ = false;
  int status_ = 0;
};

// --- SSE streams --------------------------------------------------------------

class SseAnswerFilter final : public BodyFilter {
 public:
  explicit SseAnswerFilter(pipeline::Exchange& x) : x_(x) {}

  std::string feed(std::string_view chunk) override {
    std::string out;
    if (ended_) return out;
    pending_.append(chunk);
    for (;;) {
      size_t end = pending_.find("\n\n");
      size_t crlf = pending_.find("\r\n\r\n");
      size_t skip = 2;
      if (crlf != std::string::npos && (end == std::string::npos || crlf < end)) {
        end = crlf;
        skip = 4;
      }
      if (end == std::string::npos) break;
      std::string event = pending_.substr(0, end);
      pending_.erase(0, end + skip);
      out += on_event(event);
      if (ended_) return out;
    }
    if (pending_.size() > kMaxSseEventBytes) out += block();  // an endless event: fail closed
    return out;
  }

  std::string finish() override {
    std::string out;
    if (!ended_ && !pending_.empty()) {
      std::string rest = std::move(pending_);
      pending_.clear();
      out += on_event(rest);
    }
    if (!ended_) out += flush_all();
    record();
    return out;
  }

  bool ended() const override { return ended_; }

 private:
  struct Slot {
    std::unique_ptr<inspect::StreamRestorer> restorer;  // @pseudonymize: tokens back to values first
    std::unique_ptr<inspect::StreamRedactor> redactor;
    std::string source;
    bool finished = false;
  };

  Slot& slot(const std::string& key, const std::string& source) {
    auto& s = slots_[key];
    if (!s.redactor) {
      s.redactor = pipeline::answer_stream_redactor(x_);
      s.restorer = pipeline::answer_stream_restorer(x_);
      s.source = source;
    }
    return s;
  }

  // Redacts one streamed text field in place; false when it blocked.
  bool pass(json::value& field, const std::string& key, const std::string& source) {
    if (!field.is_string()) return true;
    Slot& s = slot(key, source);
    if (s.finished) {
      // Text after its choice finished: redacted on its own.
      auto r = pipeline::redact_answer_text(x_, field.as_string(), source);
      field = r.text;
      return !r.blocked;
    }
    std::string released =
        s.redactor->feed(s.restorer ? s.restorer->feed(field.as_string()) : std::string(field.as_string()));
    field = released;
    return !s.redactor->blocked();
  }

  // The held-back rest of a field, when its choice finishes.
  std::string rest_of(const std::string& key) {
    auto it = slots_.find(key);
    if (it == slots_.end() || it->second.finished) return {};
    return end_slot(it->second);
  }

  std::string on_event(const std::string& event) {
    std::string data, other;
    bool has_data = false;
    size_t at = 0;
    while (at <= event.size()) {
      size_t nl = event.find('\n', at);
      std::string line = event.substr(at, nl == std::string::npos ? std::string::npos : nl - at);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.rfind("data:", 0) == 0) {
        std::string_view d(line);
        d.remove_prefix(5);
        if (!d.empty() && d.front() == ' ') d.remove_prefix(1);
        if (has_data) data += '\n';
        data.append(d);
        has_data = true;
      } else if (!line.empty()) {
        other += line + "\n";
      }
      if (nl == std::string::npos) break;
      at = nl + 1;
    }
    if (!has_data) return other.empty() ? std::string() : other + "\n";
    if (data == "[DONE]") return flush_all() + other + "data: [DONE]\n\n";
    boost::system::error_code ec;
    json::value v = json::parse(data, ec);
    if (!ec && !(v.is_object() && v.as_object().contains("choices"))) {
      // JSON, not a chunk (an error event): every string in it.
      auto r = pipeline::redact_answer_json(x_, v, "event");
      if (r.blocked) return block();
      return other + "data: " + (r.changed ? json::serialize(v) : data) + "\n\n";
    }
    if (ec) {
      // Not JSON: redacted as one text.
      auto r = pipeline::redact_answer_text(x_, data, "event");
      if (r.blocked) return block();
      return other + "data: " + r.text + "\n\n";
    }
    json::object& chunk = v.as_object();
    remember_shape(chunk);
    bool ok = true;
    if (auto* choices = chunk["choices"].if_array()) {
      for (size_t i = 0; i < choices->size(); ++i) {
        auto* choice = (*choices)[i].if_object();
        if (choice == nullptr) continue;
        std::string idx = std::to_string(i);
        if (auto* n = choice->if_contains("index"); n && n->is_int64()) idx = std::to_string(n->as_int64());
        json::value* delta = choice->if_contains("delta");
        if (delta == nullptr || !delta->is_object()) continue;
        auto& d = delta->as_object();
        std::string at_src = "choices[" + idx + "].";
        if (auto* c = d.if_contains("content")) ok = pass(*c, "c" + idx, at_src + "content") && ok;
        if (auto* r = d.if_contains("refusal")) ok = pass(*r, "r" + idx, at_src + "refusal") && ok;
        if (auto* calls = d.if_contains("tool_calls"); calls && calls->is_array()) {
          for (auto& call : calls->as_array()) {
            auto* co = call.if_object();
            if (co == nullptr) continue;
            std::string j = "0";
            if (auto* n = co->if_contains("index"); n && n->is_int64()) j = std::to_string(n->as_int64());
            if (auto* fn = co->if_contains("function"); fn && fn->is_object())
              if (auto* args = fn->as_object().if_contains("arguments"))
                ok = pass(*args, "t" + idx + "." + j, at_src + "tool_calls[" + j + "].arguments") && ok;
          }
        }
        const json::value* reason = choice->if_contains("finish_reason");
        if (ok && reason != nullptr && !reason->is_null()) {
          finish_choice(idx, d);
          ok = !any_blocked();
        }
      }
    }
    std::string out = other + "data: " + json::serialize(v) + "\n\n";
    if (!ok) out += block();
    return out;
  }

  // The rest of a field: what the restorer held, through the redactor, and
  // what the redactor held.
  static std::string end_slot(Slot& s) {
    s.finished = true;
    std::string out = s.restorer ? s.redactor->feed(s.restorer->finish()) : std::string();
    return out + s.redactor->finish();
  }

  bool any_blocked() const {
    for (const auto& [key, s] : slots_)
      if (s.redactor->blocked()) return true;
    return false;
  }

  // A choice finished: its fields' held-back rests join this event's delta.
  void finish_choice(const std::string& idx, json::object& delta) {
    auto append = [](json::object& o, const char* key, const std::string& rest) {
      if (rest.empty()) return;
      json::value& v = o[key];
      v = std::string(v.is_string() ? std::string_view(v.as_string()) : std::string_view()) + rest;
    };
    append(delta, "content", rest_of("c" + idx));
    append(delta, "refusal", rest_of("r" + idx));
    std::string prefix = "t" + idx + ".";
    for (auto& [key, s] : slots_) {
      if (key.rfind(prefix, 0) != 0 || s.finished) continue;
      std::string rest = rest_of(key);
      if (rest.empty()) continue;
      json::array& calls = delta["tool_calls"].is_array() ? delta["tool_calls"].as_array()
                                                           : delta["tool_calls"].emplace_array();
      calls.push_back(json::object{{"index", std::stoll(key.substr(prefix.size()))},
                                   {"function", json::object{{"arguments", rest}}}});
    }
  }

  // Every field's held-back rest, as one last chunk (the stream ended
  // without finishing its choices).
  std::string flush_all() {
    json::array choices;
    std::map<std::string, json::object> deltas;  // choice index -> delta
    for (auto& [key, s] : slots_) {
      if (s.finished) continue;
      std::string idx = key.substr(1, key.find('.') == std::string::npos ? std::string::npos : key.find('.') - 1);
      std::string rest = end_slot(s);
      if (s.redactor->blocked()) return block();
      if (rest.empty()) continue;
      json::object& d = deltas[idx];
      if (key[0] == 'c') d["content"] = rest;
      if (key[0] == 'r') d["refusal"] = rest;
      if (key[0] == 't') {
        json::array& calls = d["tool_calls"].is_array() ? d["tool_calls"].as_array() : d["tool_calls"].emplace_array();
        calls.push_back(json::object{{"index", std::stoll(key.substr(key.find('.') + 1))},
                                     {"function", json::object{{"arguments", rest}}}});
      }
    }
    if (deltas.empty()) return {};
    for (auto& [idx, d] : deltas)
      choices.push_back(json::object{{"index", std::stoll(idx)}, {"delta", std::move(d)}, {"finish_reason", nullptr}});
    json::object chunk = shape_;
    chunk["choices"] = std::move(choices);
    return "data: " + json::serialize(chunk) + "\n\n";
  }

  void remember_shape(const json::object& chunk) {
    for (const char* k : {"id", "object", "created", "model"})
      if (const auto* v = chunk.if_contains(k)) shape_[k] = *v;
  }

  std::string block() {
    ended_ = true;
    x_.details["output_blocked"] = true;
    record();
    return "data: " + blocked_error(x_) + "\n\n";
  }

  void record() {
    if (recorded_) return;
    recorded_ = true;
    for (const auto& [key, s] : slots_) pipeline::record_stream_findings(x_, *s.redactor, s.source);
  }

  pipeline::Exchange& x_;
  std::string pending_;
  std::map<std::string, Slot> slots_;  // "c0" content, "r0" refusal, "t0.1" tool call 1's arguments
  json::object shape_;                 // id, object, created, model of the last chunk
  bool ended_ = false;
  bool recorded_ = false;
};

}  // namespace

std::unique_ptr<BodyFilter> make_chat_answer_filter(pipeline::Exchange& x, bool event_stream) {
  if (event_stream) return std::make_unique<SseAnswerFilter>(x);
  return std::make_unique<JsonAnswerFilter>(x);
}

}  // namespace ztgate::gateway
