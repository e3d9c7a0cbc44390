// `ztgate token`, `ztgate grants`, `ztgate revoke`: delegation tokens for
// agents, just-in-time grants, and revocation (docs/IDENTITY.md).
#include <boost/json.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "authn/base64url.h"
#include "authn/delegation.h"
#include "cedar/entities.h"
#include "cli/cli_support.h"
#include "cli/commands.h"
#include "config/identity_runtime.h"

namespace ztgate::cli {
namespace {

namespace json = boost::json;

// Tokens and PEM chains read from arguments are bounded.
constexpr size_t kMaxArgBytes = 1 << 20;

Result<std::string> token_arg(const std::string& arg) { return read_arg(arg, kMaxArgBytes); }

// Verification failures are refusals (exit 2); configuration and I/O problems are errors (exit 1).
int refusal_or_error(const Error& e, bool as_json) {
  bool config = e.code.rfind("config_", 0) == 0 || e.code == "io_error" || e.code.rfind("store_", 0) == 0 ||
                e.code == "signing_key_error";
  return fail(e, as_json, config ? kExitError : kExitRefused);
}

Result<std::unique_ptr<config::IdentityRuntime>> open_runtime(const std::string& path) {
  auto cfg = config::load_identity_config(path);
  if (!cfg) return cfg.error();
  return config::IdentityRuntime::open(std::move(*cfg));
}

Result<authn::EntityRef> principal_arg(const std::string& text) {
  auto uid = cedar::parse_entity_uid(text);
  if (!uid) return make_error("usage", "`" + text + "` is not a Cedar entity uid like Agent::\"build-bot\"");
  return authn::EntityRef{uid->type, uid->id};
}

json::array to_array(const std::vector<std::string>& items) {
  json::array out;
  for (const auto& s : items) out.emplace_back(s);
  return out;
}


json::object delegation_json(const authn::Delegation& d, const authn::AgentRegistry& agents, int64_t now) {
  return {{"kind", "delegation"},
          {"principal", authn::EntityRef{"Agent", d.agent()}.to_cedar()},
          {"on_behalf_of", d.user.to_cedar()},
          {"user_id", d.user.id},
          {"chain", to_array(d.chain)},
          {"scopes", to_array(d.scopes.items())},
          {"task", d.task},
          {"jti", d.jti},
          {"expires_at", iso_time(d.exp)},
          {"cedar",
           {{"principal", authn::EntityRef{"Agent", d.agent()}.to_json()},
            {"entities", authn::delegation_entities(d, agents)},
            {"context",
             {{"delegation", authn::delegation_context(d)}, {"authn", authn::delegation_authn_context(d, now)}}}}}};
}

json::object identity_json(const authn::Identity& id, int64_t now) {
  json::array entities{authn::principal_entity(id)};
  for (auto& g : authn::group_entities(id)) entities.push_back(std::move(g));
  return {{"kind", "identity"},
          {"principal", id.principal.to_cedar()},
          {"subject", id.principal.id},
          {"issuer", id.authn.issuer},
          {"groups", to_array(id.groups)},
          {"scopes", to_array(id.scopes.items())},
          {"cedar",
           {{"principal", id.principal.to_json()},
            {"entities", std::move(entities)},
            {"context", {{"authn", authn::authn_context(id.authn, now)}}}}}};
}

void add_token(CLI::App& app, int& exit_code) {
  auto* token = app.add_subcommand("token", "Delegation tokens: exchange, verify, inspect, publish keys");
  token->require_subcommand(1);

  // exchange
  struct ExchangeArgs {
    std::string config = "ztgate.yaml", subject, actor_token, actor_key, task, ttl;
    std::vector<std::string> scopes;
    bool narrow = false, as_json = false;
    int64_t ttl_s = 0;
  };
  auto xa = std::make_shared<ExchangeArgs>();
  auto* exchange = token->add_subcommand(
      "exchange",
      "Mint a short-lived, task-scoped delegation token for an agent acting for a user\n"
      "(RFC 8693 style). Scope = requested ∩ the user's ∩ the agent's maximum; a request\n"
      "beyond that is refused unless --narrow. Prints the token (or JSON with --json).");
  exchange->add_option("--config", xa->config, "ztgate.yaml with the identity section")->capture_default_str();
  exchange->add_option("--subject-token", xa->subject,
                       "The user's token, or a delegation token to extend an agent chain (TOKEN, @file or -)")
      ->required();
  auto* actor_token = exchange->add_option(
      "--actor-token", xa->actor_token, "The agent's own credential: a token from an issuer (TOKEN, @file or -)");
  auto* actor_key = exchange->add_option("--actor-key", xa->actor_key,
                                         "... or the agent's API key (`ztgate keys create --principal 'Agent::\"id\"'`; KEY, @file or -)");
  actor_token->excludes(actor_key);
  actor_key->excludes(actor_token);
  exchange->add_option("--scope", xa->scopes, "A scope to delegate (repeat, or space-separated)")->required();
  exchange->add_option("--task", xa->task, "Task id (default: a random one; a chain keeps its parent's)");
  exchange->add_option("--ttl", xa->ttl_s, "Lifetime in seconds (default and ceiling: delegation.max_ttl)");
  exchange->add_flag("--narrow", xa->narrow, "Grant the allowed part of the request instead of refusing");
  exchange->add_flag("--json", xa->as_json, "Print the token and its claims as JSON");
  exchange->callback([xa, &exit_code] {
    auto rt = open_runtime(xa->config);
    if (!rt) return void(exit_code = fail(rt.error(), xa->as_json));
    auto subject = token_arg(xa->subject);
    if (!subject) return void(exit_code = fail(subject.error(), xa->as_json));
    if (xa->actor_token.empty() == xa->actor_key.empty())
      return void(exit_code = fail(make_error("usage", "give the agent's credential: --actor-token or --actor-key"),
                                   xa->as_json));
    auto actor = token_arg(xa->actor_token.empty() ? xa->actor_key : xa->actor_token);
    if (!actor) return void(exit_code = fail(actor.error(), xa->as_json));
    config::ActorCredential credential;
    (xa->actor_token.empty() ? credential.api_key : credential.token) = *actor;
    std::string joined;
    for (const auto& s : xa->scopes) joined += s + " ";
    auto scopes = authn::ScopeSet::parse(joined);
    if (!scopes) return void(exit_code = fail(scopes.error(), xa->as_json));
    config::IdentityRuntime::Exchange x{*subject, credential, *scopes, xa->task, xa->ttl_s, xa->narrow};
    int64_t now = now_s();
    auto minted = (*rt)->exchange(x, now);
    if (!minted) return void(exit_code = refusal_or_error(minted.error(), xa->as_json));
    if (xa->as_json) {
      json::object out = delegation_json(minted->claims, (*rt)->agents(), now);
      out.erase("cedar");
      out["token"] = minted->token;
      out["issued_token_type"] = "urn:ietf:params:oauth:token-type:jwt";
      out["expires_in"] = minted->claims.exp - now;
      out["narrowed_away"] = to_array(minted->narrowed_away.items());
      std::cout << json::serialize(out) << "\n";
    } else {
      std::cout << minted->token << "\n";
      if (!minted->narrowed_away.empty())
        std::cerr << "note: narrowed away: " << minted->narrowed_away.to_string() << "\n";
    }
    exit_code = kExitOk;
  });

  // verify
  struct VerifyArgs {
    std::string config = "ztgate.yaml", token, device_token;
    bool as_json = false;
  };
  auto va = std::make_shared<VerifyArgs>();
  auto* verify = token->add_subcommand(
      "verify",
      "Verify a token as the gateway would (a delegation token, or a token from a configured\n"
      "issuer) and print the Cedar principal, entities and context it becomes. Exit 0 valid,\n"
      "2 refused, 1 error.");
  verify->add_option("--config", va->config, "ztgate.yaml with the identity section")->capture_default_str();
  verify->add_option("token", va->token, "TOKEN, @file or -")->required();
  verify->add_option("--device-token", va->device_token,
                     "A device posture assertion to check with the token (TOKEN, @file or -): adds context.device");
  verify->add_flag("--json", va->as_json, "Print JSON");
  verify->callback([va, &exit_code] {
    auto rt = open_runtime(va->config);
    if (!rt) return void(exit_code = fail(rt.error(), va->as_json));
    auto text = token_arg(va->token);
    if (!text) return void(exit_code = fail(text.error(), va->as_json));
    int64_t now = now_s();
    json::object out;
    if (config::looks_like_delegation(*text)) {
      auto d = (*rt)->verify_delegation(*text, now);
      if (!d) return void(exit_code = refusal_or_error(d.error(), va->as_json));
      out = delegation_json(*d, (*rt)->agents(), now);
    } else {
      auto id = (*rt)->authenticate_token(*text, now);
      if (!id) return void(exit_code = refusal_or_error(id.error(), va->as_json));
      out = identity_json(*id, now);
    }
    std::string device_assertion;
    if (!va->device_token.empty()) {
      auto text_or = token_arg(va->device_token);
      if (!text_or) return void(exit_code = fail(text_or.error(), va->as_json));
      device_assertion = *text_or;
    }
    // The user behind the request: the token's subject, or the delegating user.
    std::string user = out.contains("on_behalf_of") ? std::string(out.at("user_id").as_string())
                                                    : std::string(out.at("subject").as_string());
    auto device = (*rt)->device_context(device_assertion, user, now);
    if (!device) return void(exit_code = refusal_or_error(device.error(), va->as_json));
    out.at("cedar").as_object().at("context").as_object()["device"] = std::move(*device);
    if (va->as_json) {
      std::cout << json::serialize(out) << "\n";
    } else {
      std::cout << "VALID " << out.at("kind").as_string().c_str() << ": " << out.at("principal").as_string().c_str();
      if (out.contains("on_behalf_of")) std::cout << " on behalf of " << out.at("on_behalf_of").as_string().c_str();
      std::cout << "\nscopes: ";
      for (const auto& s : out.at("scopes").as_array()) std::cout << s.as_string().c_str() << " ";
      std::cout << "\ncedar: " << json::serialize(out.at("cedar")) << "\n";
    }
    exit_code = kExitOk;
  });

  // verify-cert
  struct CertArgs {
    std::string config = "ztgate.yaml", chain;
    bool as_json = false;
  };
  auto cert_args = std::make_shared<CertArgs>();
  auto* cert = token->add_subcommand(
      "verify-cert",
      "Verify a client certificate chain (PEM, leaf first) as the gateway's mTLS listener would:\n"
      "chain to identity.mtls.ca_files, one SPIFFE ID, a mapping rule. Prints the principal.");
  cert->add_option("--config", cert_args->config, "ztgate.yaml with the identity section")->capture_default_str();
  cert->add_option("chain", cert_args->chain, "PEM file (or - for stdin)")->required();
  cert->add_flag("--json", cert_args->as_json, "Print JSON");
  cert->callback([cert_args, &exit_code] {
    auto rt = open_runtime(cert_args->config);
    if (!rt) return void(exit_code = fail(rt.error(), cert_args->as_json));
    auto pem = token_arg(cert_args->chain == "-" ? "-" : "@" + cert_args->chain);
    if (!pem) return void(exit_code = fail(pem.error(), cert_args->as_json));
    int64_t now = now_s();
    auto id = (*rt)->authenticate_certificate(*pem, now);
    if (!id) return void(exit_code = refusal_or_error(id.error(), cert_args->as_json));
    json::object out = identity_json(*id, now);
    if (cert_args->as_json) {
      std::cout << json::serialize(out) << "\n";
    } else {
      std::cout << "VALID certificate: " << id->principal.to_cedar() << " (trust domain " << id->authn.issuer << ")\n";
    }
    exit_code = kExitOk;
  });

  // inspect
  auto token_text = std::make_shared<std::string>();
  auto* inspect = token->add_subcommand(
      "inspect", "Decode a token's header and payload WITHOUT verifying it (for debugging only).");
  inspect->add_option("token", *token_text, "TOKEN, @file or -")->required();
  inspect->callback([token_text, &exit_code] {
    auto text = token_arg(*token_text);
    if (!text) return void(exit_code = fail(text.error(), false));
    std::string_view t = *text;
    size_t d1 = t.find('.'), d2 = d1 == std::string_view::npos ? d1 : t.find('.', d1 + 1);
    if (d2 == std::string_view::npos || t.size() > authn::kMaxJwsBytes)
      return void(exit_code = fail(make_error("jws_malformed", "not a compact JWS of at most 16 KiB"), false));
    json::object out{{"verified", false}};
    for (auto [name, part] : {std::pair{"header", t.substr(0, d1)}, {"payload", t.substr(d1 + 1, d2 - d1 - 1)}}) {
      auto bytes = authn::base64url_decode(part);
      boost::system::error_code ec;
      json::value v = bytes ? json::parse(*bytes, ec) : json::value();
      if (!bytes || ec) return void(exit_code = fail(make_error("jws_malformed", std::string(name) + " is not base64url JSON"), false));
      out[name] = std::move(v);
    }
    out["signature_bytes"] = static_cast<int64_t>(t.size() - d2 - 1) * 3 / 4;
    std::cout << json::serialize(out) << "\n";
    exit_code = kExitOk;
  });

  // jwks
  auto jwks_config = std::make_shared<std::string>("ztgate.yaml");
  auto* jwks = token->add_subcommand("jwks", "Print ztgate's public delegation keys as a JWKS (for verifiers)");
  jwks->add_option("--config", *jwks_config, "ztgate.yaml with the identity section")->capture_default_str();
  jwks->callback([jwks_config, &exit_code] {
    auto rt = open_runtime(*jwks_config);
    if (!rt) return void(exit_code = fail(rt.error(), false));
    std::cout << (*rt)->jwks_json() << "\n";
    exit_code = kExitOk;
  });
}

void add_grants(CLI::App& app, int& exit_code) {
  auto* grants = app.add_subcommand("grants", "Just-in-time grants: time-boxed extra scope for one principal");
  grants->require_subcommand(1);

  struct CreateArgs {
    std::string config = "ztgate.yaml", approver_token, principal, reason;
    std::vector<std::string> scopes;
    int64_t minutes = 0;
    bool as_json = false;
  };
  auto ca = std::make_shared<CreateArgs>();
  auto* create = grants->add_subcommand(
      "create", "Grant extra scope to a user or agent for N minutes. The approver proves who they are with\n"
                "their own token and must be in identity.jit.approver_groups; the grant is recorded.");
  create->add_option("--config", ca->config, "ztgate.yaml")->capture_default_str();
  create->add_option("--approver-token", ca->approver_token, "The approver's token (TOKEN, @file or -)")->required();
  create->add_option("--principal", ca->principal, "Who is elevated, e.g. Agent::\"build-bot\"")->required();
  create->add_option("--scope", ca->scopes, "A scope to grant (repeat)")->required();
  create->add_option("--minutes", ca->minutes, "Duration in minutes")->required();
  create->add_option("--reason", ca->reason, "Why (recorded)")->required();
  create->add_flag("--json", ca->as_json, "Print JSON");
  create->callback([ca, &exit_code] {
    auto rt = open_runtime(ca->config);
    if (!rt) return void(exit_code = fail(rt.error(), ca->as_json));
    auto token = token_arg(ca->approver_token);
    if (!token) return void(exit_code = fail(token.error(), ca->as_json));
    int64_t now = now_s();
    auto approver = (*rt)->authenticate_token(*token, now);
    if (!approver) return void(exit_code = refusal_or_error(approver.error(), ca->as_json));
    auto principal = principal_arg(ca->principal);
    if (!principal) return void(exit_code = fail(principal.error(), ca->as_json));
    auto scopes = authn::ScopeSet::from_list(ca->scopes);
    if (!scopes) return void(exit_code = fail(scopes.error(), ca->as_json));
    authn::GrantRequest req{*principal, *scopes, ca->minutes * 60, ca->reason};
    auto grant = (*rt)->grants().create(*approver, req, (*rt)->config().jit, now);
    if (!grant) return void(exit_code = refusal_or_error(grant.error(), ca->as_json));
    if (ca->as_json) {
      std::cout << json::serialize(json::object{{"id", grant->id},
                                                {"principal", grant->principal.to_cedar()},
                                                {"scopes", to_array(grant->scopes.items())},
                                                {"approver", grant->approver.to_cedar()},
                                                {"expires_at", iso_time(grant->expires_at)}})
                << "\n";
    } else {
      std::cout << "grant " << grant->id << ": " << grant->principal.to_cedar() << " +" << grant->scopes.to_string()
                << " until " << iso_time(grant->expires_at) << " (approved by " << grant->approver.to_cedar()
                << ")\n";
    }
    exit_code = kExitOk;
  });

  struct ListArgs {
    std::string config = "ztgate.yaml";
    bool all = false, as_json = false;
  };
  auto la = std::make_shared<ListArgs>();
  auto* list = grants->add_subcommand("list", "List active grants (--all: also expired and revoked)");
  list->add_option("--config", la->config, "ztgate.yaml")->capture_default_str();
  list->add_flag("--all", la->all, "Include expired and revoked grants");
  list->add_flag("--json", la->as_json, "Print JSON");
  list->callback([la, &exit_code] {
    auto rt = open_runtime(la->config);
    if (!rt) return void(exit_code = fail(rt.error(), la->as_json));
    int64_t now = now_s();
    auto grants_or = (*rt)->grants().list(la->all, now);
    if (!grants_or) return void(exit_code = fail(grants_or.error(), la->as_json));
    json::array out;
    for (const auto& g : *grants_or) {
      std::string state = g.revoked_at != 0 ? "revoked" : g.active(now) ? "active" : "expired";
      out.push_back(json::object{{"id", g.id},
                                 {"principal", g.principal.to_cedar()},
                                 {"scopes", to_array(g.scopes.items())},
                                 {"approver", g.approver.to_cedar()},
                                 {"reason", g.reason},
                                 {"created_at", iso_time(g.created_at)},
                                 {"expires_at", iso_time(g.expires_at)},
                                 {"state", state}});
      if (!la->as_json)
        std::cout << g.id << "  " << state << "  " << g.principal.to_cedar() << "  +" << g.scopes.to_string()
                  << "  until " << iso_time(g.expires_at) << "  by " << g.approver.to_cedar() << "  \"" << g.reason
                  << "\"\n";
    }
    if (la->as_json) std::cout << json::serialize(out) << "\n";
    exit_code = kExitOk;
  });

  struct RevokeArgs {
    std::string config = "ztgate.yaml";
    int64_t id = 0;
  };
  auto ra = std::make_shared<RevokeArgs>();
  auto* revoke = grants->add_subcommand("revoke", "End a grant now");
  revoke->add_option("--config", ra->config, "ztgate.yaml")->capture_default_str();
  revoke->add_option("id", ra->id, "Grant id")->required();
  revoke->callback([ra, &exit_code] {
    auto rt = open_runtime(ra->config);
    if (!rt) return void(exit_code = fail(rt.error(), false));
    if (auto st = (*rt)->grants().revoke(ra->id, now_s()); !st) return void(exit_code = fail(st.error(), false));
    std::cout << "grant " << ra->id << " revoked\n";
    exit_code = kExitOk;
  });
}

void add_revoke(CLI::App& app, int& exit_code) {
  struct Args {
    std::string config = "ztgate.yaml", jti, principal, task, reason, by;
    bool list = false, as_json = false;
  };
  auto a = std::make_shared<Args>();
  auto* revoke = app.add_subcommand(
      "revoke",
      "Revoke delegation tokens; takes effect on the next request. By token id (--jti), by\n"
      "principal (every token of a user or naming an agent, issued until now), or by task\n"
      "(every token of the task, ever). --list shows what is revoked.");
  revoke->add_option("--config", a->config, "ztgate.yaml")->capture_default_str();
  auto* jti = revoke->add_option("--jti", a->jti, "A token's jti");
  auto* principal = revoke->add_option("--principal", a->principal, "User::\"alice\" or Agent::\"build-bot\"");
  auto* task = revoke->add_option("--task", a->task, "A task id");
  auto* list = revoke->add_flag("--list", a->list, "List revocations");
  jti->excludes(principal)->excludes(task)->excludes(list);
  principal->excludes(task)->excludes(list);
  task->excludes(list);
  revoke->add_option("--reason", a->reason, "Why (recorded)");
  revoke->add_option("--by", a->by, "Who revokes (recorded; default $USER)");
  revoke->add_flag("--json", a->as_json, "Print JSON");
  revoke->callback([a, &exit_code] {
    auto rt = open_runtime(a->config);
    if (!rt) return void(exit_code = fail(rt.error(), a->as_json));
    if (a->list) {
      auto snap = (*rt)->revocations().snapshot();
      if (!snap) return void(exit_code = fail(snap.error(), a->as_json));
      json::array out;
      for (const auto& r : (*snap)->entries()) {
        out.push_back(json::object{{"kind", std::string(authn::kind_name(r.kind))},
                                   {"value", r.value},
                                   {"revoked_at", iso_time(r.revoked_at)},
                                   {"reason", r.reason},
                                   {"by", r.by}});
        if (!a->as_json)
          std::cout << authn::kind_name(r.kind) << "  " << r.value << "  " << iso_time(r.revoked_at) << "  by "
                    << r.by << "  \"" << r.reason << "\"\n";
      }
      if (a->as_json) std::cout << json::serialize(out) << "\n";
      return void(exit_code = kExitOk);
    }
    authn::Revocation r;
    if (!a->jti.empty()) {
      r.kind = authn::RevocationKind::kJti;
      r.value = a->jti;
    } else if (!a->principal.empty()) {
      auto p = principal_arg(a->principal);
      if (!p) return void(exit_code = fail(p.error(), a->as_json));
      r.kind = authn::RevocationKind::kPrincipal;
      r.value = p->to_cedar();
    } else if (!a->task.empty()) {
      r.kind = authn::RevocationKind::kTask;
      r.value = a->task;
    } else {
      return void(exit_code = fail(make_error("usage", "give --jti, --principal, --task or --list"), a->as_json));
    }
    r.revoked_at = now_s();
    r.reason = a->reason;
    const char* user = std::getenv("USER");
    r.by = !a->by.empty() ? a->by : user != nullptr ? user : "operator";
    if (auto st = (*rt)->revocations().add(r); !st) return void(exit_code = fail(st.error(), a->as_json));
    std::cout << "revoked " << authn::kind_name(r.kind) << " " << r.value << "\n";
    exit_code = kExitOk;
  });
}

}  // namespace

void add_token_commands(CLI::App& app, int& exit_code) {
  add_token(app, exit_code);
  add_grants(app, exit_code);
  add_revoke(app, exit_code);
}

}  // namespace ztgate::cli
