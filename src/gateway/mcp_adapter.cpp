#include "gateway/mcp_adapter.h"

#include <boost/json.hpp>

#include "cedar/entities.h"
#include "common/json_keys.h"
#include "mcp/http_upstream.h"
#include "mcp/jsonrpc.h"
#include "mcp/stdio_upstream.h"
#include "inspect/injection.h"
#include "inspect/spotlight.h"
#include "pipeline/context_paths.h"
#include "pipeline/inspect_stage.h"
#include "pipeline/output_redaction.h"
#include "pipeline/decider.h"
#include "pipeline/snapshot.h"

namespace ztgate::gateway {
namespace {

namespace json = boost::json;

constexpr int kMaxArgsDepth = 8;

HttpResponse rpc_answer(std::string body) { return HttpResponse{200, "application/json", {}, std::move(body), {}, {}}; }

// x.ending as a JSON-RPC error answering request `id`.
HttpResponse rpc_ending(const json::value& id, const pipeline::Exchange& x) {
  const pipeline::Ending& e = *x.ending;
  int code = e.status == 400 ? mcp::kInvalidParams : mcp::kForbidden;
  std::string message = e.message.empty() ? "denied by policy" : e.message;
  json::object data{{"ztgate", json::object{{"code", e.code}, {"request_id", x.request_id}}}};
  if (!e.body.empty()) {
    // A deny answer a stage built (it may name policies): keep its details.
    boost::system::error_code ec;
    json::value body = json::parse(e.body, ec);
    if (!ec && body.is_object())
      if (const json::value* err = body.as_object().if_contains("error"); err && err->is_object()) {
        data["ztgate"] = *err;
        if (const json::value* msg = err->as_object().if_contains("message"); msg && msg->is_string())
          message = std::string(msg->as_string());
      }
  }
  HttpResponse r = rpc_answer(mcp::error_response(id, code, message, data));
  for (const auto& h : e.headers) r.headers.push_back(h);
  return r;
}

// The text parts of an upstream answer the model will read, each with a
// callback that replaces it (spotlighting): content items of type text,
// embedded resources' text, prompt messages' text, read resources' text.
// structuredContent is inspected as JSON text but not rewritten.
template <class Visit>
void for_each_text(json::object& result, Visit&& visit) {
  auto text_of = [&](json::object& item) {
    if (json::value* t = item.if_contains("text"); t && t->is_string()) visit(t->as_string());
    if (json::value* r = item.if_contains("resource"); r && r->is_object())
      if (json::value* t = r->as_object().if_contains("text"); t && t->is_string()) visit(t->as_string());
  };
  for (const char* list : {"content", "contents"})
    if (json::value* items = result.if_contains(list); items && items->is_array())
      for (auto& item : items->as_array())
        if (item.is_object()) text_of(item.as_object());
  if (json::value* messages = result.if_contains("messages"); messages && messages->is_array())
    for (auto& m : messages->as_array())
      if (json::value* c = m.is_object() ? m.as_object().if_contains("content") : nullptr; c && c->is_object())
        text_of(c->as_object());
}

// Inspects an upstream answer (channel: tool_output, or retrieved_doc for
// resources) and decides again with what was found. True when it may be
// returned; false with x.ending set.
bool inspect_result(pipeline::Exchange& x, json::object& result, inspect::Channel channel,
                    const DeferredHooks& hooks) {
  if (!x.snapshot || !x.snapshot->injection) return true;
  std::vector<pipeline::InspectText> texts;
  const std::string source = x.resource.type + " " + x.resource.id;
  for_each_text(result, [&](json::string& t) { texts.push_back({channel, std::string(t), source}); });
  if (const json::value* structured = result.if_contains("structuredContent"))
    texts.push_back({channel, json::serialize(*structured), source + " structuredContent"});
  if (texts.empty()) return true;  // nothing new in the context: the decision stands
  if (!pipeline::inspect_texts(x, texts)) return false;
  return hooks.redecide(x);
}

// Wraps every text part of `result` (the allow asked for @spotlight).
void spotlight_result(const pipeline::Exchange& x, json::object& result) {
  const inspect::SpotlightMode mode = pipeline::spotlight_mode(x);
  const std::string nonce = inspect::new_spotlight_nonce();
  const std::string source = x.resource.type + " " + x.resource.id;
  for_each_text(result, [&](json::string& t) { t = inspect::spotlight(t, mode, nonce, source); });
}

// Output DLP on an upstream answer (x.redaction): every string in it (text
// parts, structured content) redacted in place. False when a finding blocks
// the answer (x.ending set: 403 output_blocked).
bool redact_result(pipeline::Exchange& x, json::value& result) {
  if (!x.redaction) return true;
  const bool blocked = pipeline::redact_answer_json(x, result, x.resource.type + " " + x.resource.id).blocked;
  if (blocked) {
    x.details["output_blocked"] = true;
    x.ending = pipeline::Ending{403, "output_blocked", "the answer carried content that policy blocks", {}, ""};
  }
  // The record keeps the answer as the client gets it, never the found values.
  if (x.capture_payloads) x.response_payload = blocked ? std::string() : json::serialize(result);
  return !blocked;
}

HttpResponse rpc_error(const json::value& id, int code, std::string_view message, std::string_view ztgate_code,
                       std::string_view request_id) {
  json::object data{{"ztgate", json::object{{"code", ztgate_code}, {"request_id", request_id}}}};
  return rpc_answer(mcp::error_response(id, code, message, data));
}

// Who owns a session: the principal and the delegation chain it acts in.
std::string owner_of(const pipeline::Exchange& x) {
  std::string owner = x.identity ? x.identity->principal.to_cedar() : "";
  for (const auto& link : x.chain) owner += "|" + link.to_cedar();
  return owner;
}

// Tool arguments as a Cedar-ready value: nulls dropped, fractions and
// integers beyond int64 as strings, deeper than kMaxArgsDepth as their JSON
// text. (A policy on an argument compares what the agent sent.)
json::value cedar_safe(const json::value& v, int depth) {
  if (depth >= kMaxArgsDepth) return json::value(json::serialize(v));
  switch (v.kind()) {
    case json::kind::double_: return json::value(json::serialize(v));
    case json::kind::uint64:
      if (v.get_uint64() > static_cast<uint64_t>(INT64_MAX)) return json::value(std::to_string(v.get_uint64()));
      return json::value(static_cast<int64_t>(v.get_uint64()));
    case json::kind::array: {
      json::array out;
      for (const auto& e : v.get_array())
        if (!e.is_null()) out.push_back(cedar_safe(e, depth + 1));
      return out;
    }
    case json::kind::object: {
      json::object out;
      for (const auto& m : v.get_object())
        if (!m.value().is_null()) out[m.key()] = cedar_safe(m.value(), depth + 1);
      return out;
    }
    default: return v;
  }
}

json::object entity(std::string_view type, std::string_view id, json::object attrs, std::string_view server) {
  return json::object{{"uid", json::object{{"type", type}, {"id", id}}},
                      {"attrs", std::move(attrs)},
                      {"parents", json::array{json::object{{"type", "ToolServer"}, {"id", server}}}}};
}

// The injection verdict on a tool's definition (name, description, input
// schema) as the model will read it: (score, flagged), computed once per
// definition digest and detector. (0, false) with inspection off. A
// definition that cannot be inspected counts as flagged (fail closed).
std::pair<int64_t, bool> description_verdict(McpRuntime& rt, const pipeline::Snapshot& s, const mcp::ToolEntry& t) {
  if (!s.injection) return {0, false};
  {
    std::lock_guard lock(rt.descriptions_mu);
    if (rt.descriptions_detector.lock() != s.injection) {
      rt.description_verdicts.clear();
      rt.descriptions_detector = s.injection;
    }
    if (auto it = rt.description_verdicts.find(t.digest); it != rt.description_verdicts.end()) return it->second;
  }
  auto v = s.injection->inspect(json::serialize(t.definition), inspect::Channel::tool_description);
  std::pair<int64_t, bool> out = v ? std::pair<int64_t, bool>{v->score, v->flagged} : std::pair<int64_t, bool>{100, true};
  std::lock_guard lock(rt.descriptions_mu);
  if (rt.description_verdicts.size() >= 8192) rt.description_verdicts.clear();  // bounded; recomputed on demand
  rt.description_verdicts[t.digest] = out;
  return out;
}

json::object tool_entity(const mcp::ToolEntry& t, std::pair<int64_t, bool> description) {
  return entity("Tool", t.name,
                json::object{{"name", t.name},
                             {"description_injection", description.first},
                             {"description_flagged", description.second},
                             {"server", t.server},
                             {"read_only", t.annotations.read_only},
                             {"destructive", t.annotations.destructive},
                             {"idempotent", t.annotations.idempotent},
                             {"open_world", t.annotations.open_world},
                             {"sensitivity", t.settings.sensitivity},
                             {"sends_data", t.settings.sends_data},
                             {"untrusted_output", t.settings.untrusted_output},
                             {"data_rank", t.settings.data_rank}},
                t.server);
}

json::object prompt_entity(const mcp::NamedEntry& p) {
  return entity("Prompt", p.name, json::object{{"name", p.name}, {"server", p.server}}, p.server);
}

json::object resource_entity(std::string_view uri, std::string_view server) {
  return entity("McpResource", uri, json::object{{"uri", uri}, {"server", server}}, server);
}

enum class Kind { kInitialize, kNotification, kPing, kNoop, kListTools, kCallTool, kListPrompts, kGetPrompt,
                  kListResources, kListTemplates, kReadResource, kEndSession, kUnknown };

Kind kind_of(const mcp::Message& m) {
  if (m.kind == mcp::MessageKind::kNotification) return Kind::kNotification;
  if (m.kind != mcp::MessageKind::kRequest) return Kind::kNotification;  // a client's response: nothing to do
  static const std::pair<const char*, Kind> kMethods[] = {
      {"initialize", Kind::kInitialize},          {"ping", Kind::kPing},
      {"logging/setLevel", Kind::kNoop},          {"tools/list", Kind::kListTools},
      {"tools/call", Kind::kCallTool},            {"prompts/list", Kind::kListPrompts},
      {"prompts/get", Kind::kGetPrompt},          {"resources/list", Kind::kListResources},
      {"resources/templates/list", Kind::kListTemplates}, {"resources/read", Kind::kReadResource}};
  for (const auto& [name, kind] : kMethods)
    if (m.method == name) return kind;
  return Kind::kUnknown;
}

// Does the policy read the call's arguments (context.tool.args or
// context.prompt.args, by value or with `has`)? Reading the whole context
// counts as yes.
bool reads_arguments(const cedar::Policy& p) {
  for (const auto& c : p.conditions) {
    auto paths = pipeline::context_paths(*c.body);
    if (paths.whole) return true;
    for (const auto& path : paths.paths)
      if (path.attrs.size() >= 2 && (path.attrs[0] == "tool" || path.attrs[0] == "prompt") && path.attrs[1] == "args")
        return true;
  }
  return false;
}

// The listing rule's policy set: permits that read the arguments keep only
// their scope (they could apply to some arguments), forbids that read them
// are left out (some arguments avoid them), the rest as they are.
std::shared_ptr<const cedar::Authorizer> build_listing_authorizer(const cedar::PolicySet& policies) {
  auto set = std::make_shared<cedar::PolicySet>();
  for (const auto& p : policies.policies()) {
    if (!reads_arguments(*p)) {
      (void)set->add(*p);
      continue;
    }
    if (p->effect == cedar::Effect::kForbid) continue;
    cedar::Policy scope_only = *p;
    scope_only.conditions.clear();
    (void)set->add(std::move(scope_only));
  }
  return std::make_shared<const cedar::Authorizer>(std::move(set));
}

std::shared_ptr<const cedar::Authorizer> listing_authorizer(McpRuntime& rt, const pipeline::Snapshot& s) {
  std::lock_guard lock(rt.listing_mu);
  if (!rt.listing || rt.listing_version != s.version) {
    rt.listing = build_listing_authorizer(*s.bundle.policies);
    rt.listing_version = s.version;
  }
  return rt.listing;
}

class McpCall final : public AdapterCall {
 public:
  McpCall(McpRuntime& rt, mcp::Message message, Kind kind, std::string session_id, bool end_session)
      : rt_(rt), m_(std::move(message)), kind_(kind), session_id_(std::move(session_id)), end_session_(end_session) {}

  // Sets up the exchange for the pipeline. False: bad input (x.ending set).
  bool prepare(pipeline::Exchange& x) {
    x.context["mcp"] = json::object{{"method", m_.method}};
    x.details["mcp_method"] = end_session_ ? "DELETE" : m_.method;
    switch (kind_) {
      case Kind::kListTools: return prepare_list(x, "call_tool");
      case Kind::kListPrompts: return prepare_list(x, "get_prompt");
      case Kind::kListResources:
      case Kind::kListTemplates: return prepare_list(x, "read_resource");
      case Kind::kCallTool: return prepare_call(x);
      case Kind::kGetPrompt: return prepare_prompt(x);
      case Kind::kReadResource: return prepare_read(x);
      default:
        // Authenticated and recorded; nothing to decide.
        x.action = end_session_ ? "end_mcp_session" : (kind_ == Kind::kInitialize ? "initialize_mcp" : "mcp_message");
        x.decide_many = [](pipeline::Exchange&, const pipeline::Decider&, const cedar::Entities&, std::string_view) {};
        return true;
    }
  }

  AdapterAnswer respond(pipeline::Exchange& x) override {
    if (kind_ == Kind::kInitialize) return initialize(x);
    if (session_id_.empty()) {
      x.ending = pipeline::Ending{400, "session_required", "", {}, ""};
      return json_error(400, "session_required", "send the Mcp-Session-Id header from initialize", x.request_id);
    }
    std::string owner = owner_of(x);
    if (end_session_) {
      bool ended = rt_.sessions->end(session_id_, owner);
      x.ending = ended ? std::nullopt : std::optional(pipeline::Ending{404, "session_not_found", "", {}, ""});
      if (!ended) return json_error(404, "session_not_found", "no such MCP session", x.request_id);
      return HttpResponse{204, "application/json", {}, "", {}, {}};
    }
    auto session = rt_.sessions->find(session_id_, owner);
    if (!session) {
      // Expired, unknown, or someone else's: the same answer (initialize again).
      x.ending = pipeline::Ending{404, "session_not_found", "", {}, ""};
      return json_error(404, "session_not_found", "no such MCP session; initialize again", x.request_id);
    }
    switch (kind_) {
      case Kind::kNotification: return HttpResponse{202, "application/json", {}, "", {}, {}};
      case Kind::kPing:
      case Kind::kNoop: return rpc_answer(mcp::result_response(m_.id, json::object{}));
      case Kind::kListTools: return listing("tools");
      case Kind::kListPrompts: return listing("prompts");
      case Kind::kListResources: return listing("resources");
      case Kind::kListTemplates: return listing("resourceTemplates");
      case Kind::kCallTool:
      case Kind::kGetPrompt:
      case Kind::kReadResource: return forward(x);
      default:
        x.ending = pipeline::Ending{200, "method_not_found", "", {}, ""};
        return rpc_error(m_.id, mcp::kMethodNotFound, "the gateway does not offer `" + m_.method + "`", "method_not_found",
                         x.request_id);
    }
  }

  std::optional<HttpResponse> answer_ending(const pipeline::Exchange& x) override {
    // Authentication and the trail's own refusals stay HTTP-level answers.
    if (x.ending->status == 401 || x.ending->status == 503 || m_.kind != mcp::MessageKind::kRequest) return std::nullopt;
    return rpc_ending(m_.id, x);
  }

 private:
  AdapterAnswer initialize(pipeline::Exchange& x) {
    std::string version(mcp::kProtocolVersions[0]);
    if (const json::value* v = m_.params.if_contains("protocolVersion"); v && v->is_string() &&
                                                                          mcp::supported_protocol_version(v->as_string()))
      version = std::string(v->as_string());
    std::string id = rt_.sessions->create(owner_of(x), version);
    if (id.empty()) {
      x.ending = pipeline::Ending{500, "internal_error", "", {}, ""};
      return json_error(500, "internal_error", "no randomness for a session id", x.request_id);
    }
    x.session_key = id;
    x.details["mcp_session"] = id.substr(0, 8);  // enough to correlate, not enough to use
    json::object result{
        {"protocolVersion", version},
        {"capabilities", json::object{{"tools", json::object{{"listChanged", false}}},
                                      {"prompts", json::object{{"listChanged", false}}},
                                      {"resources", json::object{{"subscribe", false}, {"listChanged", false}}},
                                      {"logging", json::object{}}}},
        {"serverInfo", json::object{{"name", "ztgate"}, {"version", "0.1.0"}}},
        {"instructions", "Tools from several servers, namespaced <server>__<tool>. Every call is authorized by policy "
                         "and recorded."}};
    HttpResponse r = rpc_answer(mcp::result_response(m_.id, result));
    r.headers.emplace_back("mcp-session-id", id);
    return r;
  }

  bool prepare_list(pipeline::Exchange& x, const char* action) {
    x.action = action;
    catalog_ = rt_.hub->catalog();
    const mcp::Catalog& c = *catalog_;
    std::vector<const mcp::ToolEntry*> tools;
    std::vector<const mcp::NamedEntry*> named;
    if (kind_ == Kind::kListTools) {
      for (const auto& t : c.tools)
        if (t.pin == mcp::PinState::kApproved) {
          tools.push_back(&t);
          x.adapter_entities.push_back(tool_entity(t, description_verdict(rt_, *x.snapshot, t)));
        }
    } else {
      const auto& list = kind_ == Kind::kListPrompts ? c.prompts : kind_ == Kind::kListResources ? c.resources : c.templates;
      for (const auto& e : list) {
        named.push_back(&e);
        x.adapter_entities.push_back(kind_ == Kind::kListPrompts ? prompt_entity(e) : resource_entity(e.name, e.server));
      }
    }
    x.decide_many = [this, tools, named, action](pipeline::Exchange& ex, const pipeline::Decider&,
                                                 const cedar::Entities& entities, std::string_view) {
      auto listing = listing_authorizer(rt_, *ex.snapshot);
      const auto& p = ex.identity->principal;
      auto decide = [&](const char* type, const std::string& id, json::object item_context) {
        json::object context = ex.context;
        context[kind_ == Kind::kListTools ? "tool" : kind_ == Kind::kListPrompts ? "prompt" : "resource"] =
            std::move(item_context);
        auto value = cedar::parse_value_json(json::serialize(context));
        if (!value || !value->is_record()) return false;
        cedar::Request r{cedar::EntityUID{p.type, p.id}, cedar::EntityUID{"Action", action},
                         cedar::EntityUID{type, id}, std::make_shared<const cedar::ValueRecord>(value->as_record())};
        return listing->is_authorized(r, entities).decision == cedar::Decision::kAllow;
      };
      for (const auto* t : tools)
        if (decide("Tool", t->name, json::object{{"name", t->name}, {"server", t->server}})) listed_.push_back(t->definition);
      for (const auto* e : named) {
        bool ok = kind_ == Kind::kListPrompts
                      ? decide("Prompt", e->name, json::object{{"name", e->name}, {"server", e->server}})
                      : decide("McpResource", e->name, json::object{{"uri", e->name}, {"server", e->server}});
        if (ok) listed_.push_back(e->definition);
      }
      ex.details["mcp_listed"] = static_cast<int64_t>(listed_.size());
      ex.details["mcp_catalog"] = static_cast<int64_t>(tools.size() + named.size());
    };
    return true;
  }

  HttpResponse listing(const char* key) {
    json::array items;
    for (auto& v : listed_) items.push_back(std::move(v));
    return rpc_answer(mcp::result_response(m_.id, json::object{{key, std::move(items)}}));
  }

  bool invalid(pipeline::Exchange& x, std::string message) {
    x.ending = pipeline::Ending{400, "invalid_params", std::move(message), {}, ""};
    return false;
  }

  bool prepare_call(pipeline::Exchange& x) {
    x.action = "call_tool";
    const json::value* name = m_.params.if_contains("name");
    if (name == nullptr || !name->is_string() || name->as_string().empty() || name->as_string().size() > 512)
      return invalid(x, "`name` must be a tool name");
    const json::value* args = m_.params.if_contains("arguments");
    if (args != nullptr && !args->is_object() && !args->is_null()) return invalid(x, "`arguments` must be an object");
    tool_name_ = std::string(name->as_string());
    x.resource = authn::EntityRef{"Tool", tool_name_};
    catalog_ = rt_.hub->catalog();
    const mcp::ToolEntry* t = catalog_->tool(tool_name_);
    json::object tool{{"name", tool_name_}};
    if (t != nullptr) {
      tool["server"] = t->server;
      x.adapter_entities.push_back(tool_entity(*t, description_verdict(rt_, *x.snapshot, *t)));
      x.upstream = t->server;
    }
    tool["args"] = args != nullptr && args->is_object() ? cedar_safe(*args, 0) : json::object{};
    x.context["tool"] = std::move(tool);
    x.can_spotlight = true;      // the answer's text parts can be wrapped
    x.can_redact = true;         // and redacted (output DLP)
    x.can_pseudonymize = true;   // and the arguments can carry tokens instead of values
    return true;
  }

  bool prepare_prompt(pipeline::Exchange& x) {
    x.action = "get_prompt";
    const json::value* name = m_.params.if_contains("name");
    if (name == nullptr || !name->is_string() || name->as_string().empty() || name->as_string().size() > 512)
      return invalid(x, "`name` must be a prompt name");
    tool_name_ = std::string(name->as_string());
    x.resource = authn::EntityRef{"Prompt", tool_name_};
    catalog_ = rt_.hub->catalog();
    json::object prompt{{"name", tool_name_}};
    if (const mcp::NamedEntry* p = catalog_->prompt(tool_name_)) {
      prompt["server"] = p->server;
      x.adapter_entities.push_back(prompt_entity(*p));
      x.upstream = p->server;
    }
    if (const json::value* args = m_.params.if_contains("arguments"); args && args->is_object())
      prompt["args"] = cedar_safe(*args, 0);
    x.context["prompt"] = std::move(prompt);
    x.can_spotlight = true;  // the answer's text parts can be wrapped
    x.can_redact = true;     // and redacted (output DLP)
    return true;
  }

  bool prepare_read(pipeline::Exchange& x) {
    x.action = "read_resource";
    const json::value* uri = m_.params.if_contains("uri");
    if (uri == nullptr || !uri->is_string() || uri->as_string().empty() || uri->as_string().size() > 2048)
      return invalid(x, "`uri` must be a resource URI");
    tool_name_ = std::string(uri->as_string());
    x.resource = authn::EntityRef{"McpResource", tool_name_};
    catalog_ = rt_.hub->catalog();
    std::string server = catalog_->resource_server(tool_name_);
    json::object resource{{"uri", tool_name_}};
    if (!server.empty()) {
      resource["server"] = server;
      x.adapter_entities.push_back(resource_entity(tool_name_, server));
      x.upstream = server;
    }
    x.context["resource"] = std::move(resource);
    x.can_spotlight = true;  // the answer's text parts can be wrapped
    x.can_redact = true;     // and redacted (output DLP)
    return true;
  }

  // tools/call, prompts/get, resources/read: to the server, off the server's threads.
  AdapterAnswer forward(pipeline::Exchange& x) {
    std::string server, upstream_name;
    mcp::ToolSettings settings;
    bool is_tool = kind_ == Kind::kCallTool;
    if (is_tool) {
      const mcp::ToolEntry* t = catalog_->tool(tool_name_);
      if (t == nullptr) return unknown(x, "no tool `" + tool_name_ + "` is served through this gateway");
      if (t->pin != mcp::PinState::kApproved) {
        x.ending = pipeline::Ending{200, "tool_blocked", "", {}, ""};
        return rpc_error(m_.id, mcp::kToolBlocked,
                         "the definition of `" + tool_name_ +
                             "` changed since it was approved; it is blocked until an administrator approves the change",
                         "tool_blocked", x.request_id);
      }
      server = t->server;
      upstream_name = t->upstream_name;
      settings = t->settings;
    } else if (kind_ == Kind::kGetPrompt) {
      const mcp::NamedEntry* p = catalog_->prompt(tool_name_);
      if (p == nullptr) return unknown(x, "no prompt `" + tool_name_ + "` is served through this gateway");
      server = p->server;
      upstream_name = p->upstream_name;
    } else {
      server = catalog_->resource_server(tool_name_);
      if (server.empty()) return unknown(x, "no server offers the resource `" + tool_name_ + "`");
      upstream_name = tool_name_;
    }
    mcp::Upstream* up = rt_.hub->upstream(server);
    if (up == nullptr) return unknown(x, "the server of `" + tool_name_ + "` is not configured");
    json::object params = m_.params;
    params[kind_ == Kind::kReadResource ? "uri" : "name"] = upstream_name;
    // @pseudonymize: the tool server gets tokens for those values (decided
    // on the real ones); redact_result restores them in its answer.
    if (is_tool) {
      if (json::value* args = params.if_contains("arguments"); args && args->is_object())
        pipeline::pseudonymize_request_json(x, *args);
    }
    Deferred d;
    auto timeout = std::chrono::milliseconds(rt_.settings.call_timeout_ms);
    d.timeout = timeout + std::chrono::milliseconds(500);  // the upstream's own timeout answers first
    d.submit = [hub = rt_.hub.get()](std::function<void()> job) { return hub->submit(std::move(job)); };
    const inspect::Channel channel =
        kind_ == Kind::kReadResource ? inspect::Channel::retrieved_doc : inspect::Channel::tool_output;
    d.work = [up, params = std::move(params), method = m_.method, id = m_.id, timeout, settings, is_tool, channel](
                 pipeline::Exchange& ex, const DeferredHooks& hooks) -> HttpResponse {
      auto r = up->call(method, params, timeout, [&hooks](std::string_view text) { hooks.output(text); });
      if (!r) {
        ex.upstream_error = r.error().code;
        return rpc_error(id, mcp::kUpstreamFailed, r.error().message, r.error().code, ex.request_id);
      }
      if (r->kind == mcp::MessageKind::kError) {
        // The server's own error (bad arguments, ...) goes back as it was.
        ex.upstream_error = "upstream_error";
        const json::value* code = r->error.if_contains("code");
        const json::value* msg = r->error.if_contains("message");
        json::object data;
        if (const json::value* dv = r->error.if_contains("data"); dv && dv->is_object()) data = dv->as_object();
        return rpc_answer(mcp::error_response(id, code && code->is_int64() ? static_cast<int>(code->as_int64()) : mcp::kInternalError,
                                              msg && msg->is_string() ? std::string_view(msg->as_string()) : "upstream error",
                                              data));
      }
      if (is_tool) {
        state::Observation o;
        o.tool = ex.resource.id;
        o.data_rank = static_cast<int>(settings.data_rank);
        o.data_label = settings.data_label;
        o.untrusted = settings.untrusted_output;
        ex.observation = std::move(o);
      }
      // The answer is untrusted content: inspected, decided on again, and
      // wrapped when the allow asks for spotlighting.
      if (!r->result.is_object()) {
        // Not an MCP result shape: inspected as one text, never wrapped.
        json::object whole{{"content", json::array{json::object{{"type", "text"}, {"text", json::serialize(r->result)}}}}};
        if (!inspect_result(ex, whole, channel, hooks)) return rpc_ending(id, ex);
        if (ex.verdict && ex.verdict->obligations.spotlight) {
          ex.ending = pipeline::Ending{403, "obligation_unfulfillable",
                                       "the policy asks for spotlighting and the tool's answer has no text parts to wrap", {}, ""};
          return rpc_ending(id, ex);
        }
        if (!redact_result(ex, r->result)) return rpc_ending(id, ex);
        return rpc_answer(mcp::result_response(id, r->result));
      }
      if (!inspect_result(ex, r->result.as_object(), channel, hooks)) return rpc_ending(id, ex);
      // Redacted first, then wrapped: the markers are the gateway's, not data.
      if (!redact_result(ex, r->result)) return rpc_ending(id, ex);
      json::object result = std::move(r->result.as_object());
      if (ex.verdict && ex.verdict->obligations.spotlight) spotlight_result(ex, result);
      return rpc_answer(mcp::result_response(id, result));
    };
    return d;
  }

  HttpResponse unknown(pipeline::Exchange& x, std::string message) {
    x.ending = pipeline::Ending{200, "not_found", "", {}, ""};
    return rpc_error(m_.id, mcp::kInvalidParams, message, "not_found", x.request_id);
  }

  McpRuntime& rt_;
  mcp::Message m_;
  Kind kind_;
  std::string session_id_;
  bool end_session_;
  std::shared_ptr<const mcp::Catalog> catalog_;
  std::string tool_name_;
  std::vector<json::value> listed_;
};

bool origin_allowed(const HttpRequest& req, const config::McpSettings& s) {
  std::string origin = req.header("origin");
  if (origin.empty()) return true;  // not a browser
  for (const auto& o : s.allowed_origins)
    if (o == origin) return true;
  return false;
}

}  // namespace

Result<std::unique_ptr<McpRuntime>> start_mcp_runtime(const config::McpSettings& settings, mcp::AddressResolver resolve) {
  auto rt = std::make_unique<McpRuntime>();
  rt->settings = settings;
  std::vector<mcp::ServerSpec> servers;
  auto tool_settings = [&](const config::McpToolSettings& t) {
    mcp::ToolSettings out;
    out.sensitivity = t.sensitivity;
    out.sends_data = t.sends_data;
    out.untrusted_output = t.untrusted_output;
    out.data_rank = settings.rank_of(t.data_classification);
    out.data_label = t.data_classification;
    return out;
  };
  for (const auto& s : settings.servers) {
    mcp::ServerSpec spec;
    spec.id = s.id;
    spec.defaults = tool_settings(s.defaults);
    for (const auto& t : s.tools) spec.tools[t.name] = tool_settings(t);
    if (!s.url.empty()) {
      mcp::HttpUpstreamOptions o;
      o.id = s.id;
      o.url = s.url;
      o.ca_file = s.ca_file;
      o.bearer = s.token;
      o.resolve = resolve;
      auto up = mcp::make_http_upstream(std::move(o));
      if (!up) return up.error();
      spec.upstream = std::move(*up);
    } else {
      mcp::StdioOptions o;
      o.id = s.id;
      o.argv = s.command;
      for (const auto& e : s.env) {
        auto eq = e.find('=');
        o.env[e.substr(0, eq)] = e.substr(eq + 1);
      }
      o.cwd = s.cwd;
      spec.upstream = mcp::make_stdio_upstream(std::move(o));
    }
    servers.push_back(std::move(spec));
  }
  auto pins = mcp::PinStore::open(settings.pins, settings.approve_first_use);
  if (!pins) return make_error("mcp_config", "mcp.pins: " + pins.error().message);
  mcp::HubOptions options;
  options.catalog_ttl = std::chrono::milliseconds(settings.catalog_ttl_ms);
  options.list_timeout = std::chrono::milliseconds(settings.list_timeout_ms);
  options.workers = static_cast<int>(settings.workers);
  options.max_queued = static_cast<size_t>(settings.max_queued);
  rt->hub = std::make_unique<mcp::Hub>(std::move(servers), std::move(*pins), options);
  rt->sessions = std::make_unique<mcp::Sessions>(static_cast<size_t>(settings.max_sessions),
                                                 std::chrono::milliseconds(settings.session_idle_timeout_ms));
  return rt;
}

std::unique_ptr<AdapterCall> start_mcp(const HttpRequest& request, pipeline::Exchange& x, McpRuntime& rt) {
  x.adapter = "mcp";
  x.audiences = rt.settings.audiences;
  auto refuse = [&x](int status, const char* code, std::string message) -> std::unique_ptr<AdapterCall> {
    x.ending = pipeline::Ending{status, code, std::move(message), {}, ""};
    return nullptr;
  };
  if (!origin_allowed(request, rt.settings))
    return refuse(403, "origin_not_allowed", "requests from this Origin are not accepted (mcp.allowed_origins)");
  std::string version = request.header("mcp-protocol-version");
  if (!version.empty() && !mcp::supported_protocol_version(version))
    return refuse(400, "unsupported_protocol_version", "MCP-Protocol-Version `" + printable_key(version) + "` is not supported");
  std::string session = request.header("mcp-session-id");
  if (session.size() > 128) return refuse(400, "invalid_request", "Mcp-Session-Id is too long");
  if (request.method == "DELETE") {
    auto call = std::make_unique<McpCall>(rt, mcp::Message{}, Kind::kEndSession, session, true);
    call->prepare(x);
    x.session_key = session;
    return call;
  }
  auto m = mcp::parse_message(request.body);
  if (!m) return refuse(400, m.error().code == "jsonrpc_parse" ? "invalid_json" : "invalid_request", m.error().message);
  Kind kind = kind_of(*m);
  if (kind != Kind::kInitialize) x.session_key = session;
  auto call = std::make_unique<McpCall>(rt, std::move(*m), kind, kind == Kind::kInitialize ? "" : session, false);
  if (!call->prepare(x)) return nullptr;
  return call;
}

std::string protected_resource_metadata_path(const config::McpSettings& s) {
  return "/.well-known/oauth-protected-resource" + s.path;
}

HttpResponse protected_resource_metadata(const config::McpSettings& s) {
  json::object meta{{"resource", s.resource},
                    {"authorization_servers", json::value_from(s.authorization_servers)},
                    {"bearer_methods_supported", json::array{"header"}},
                    {"resource_name", "ztgate MCP gateway"}};
  if (!s.scopes_supported.empty()) meta["scopes_supported"] = json::value_from(s.scopes_supported);
  return HttpResponse{200, "application/json", {{"cache-control", "max-age=300"}}, json::serialize(meta), {}, {}};
}

std::string mcp_challenge(const config::McpSettings& s, std::string_view challenge) {
  std::string base = s.resource;
  // resource_metadata is an absolute URL on the gateway's public origin.
  auto scheme_end = base.find("://");
  auto path_start = scheme_end == std::string::npos ? std::string::npos : base.find('/', scheme_end + 3);
  std::string origin = path_start == std::string::npos ? base : base.substr(0, path_start);
  std::string value = "Bearer resource_metadata=\"" + origin + protected_resource_metadata_path(s) + "\"";
  std::string_view rest = challenge;
  if (rest.rfind("Bearer", 0) == 0) rest.remove_prefix(6);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (!rest.empty()) value += ", " + std::string(rest);
  return value;
}

}  // namespace ztgate::gateway
