// `ztgate keys create|list|revoke|verify`: API keys for services and agents
// (src/authn/api_keys.h). The key is printed once, at creation; list never
// shows a secret or a digest.
#include <boost/json.hpp>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <optional>

#include "authn/api_keys.h"
#include "cli/cli_support.h"
#include "cli/commands.h"

namespace ztgate::cli {
namespace {

namespace json = boost::json;
using authn::ApiKeyRecord;
using authn::ApiKeyStore;

constexpr size_t kMaxStdinKeyBytes = 4096;

std::string resolve_data_dir(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("ZTGATE_DATA_DIR"); env != nullptr && *env != '\0') return env;
  return "./ztgate-data";
}

// "30d", "12h", "90m", "45s".
Result<int64_t> parse_ttl(const std::string& text) {
  auto bad = [&] { return make_error("ttl_invalid", "--ttl must be a number followed by d, h, m or s, e.g. 30d"); };
  if (text.size() < 2 || text.size() > 10) return bad();
  int64_t n = 0;
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return bad();
    n = n * 10 + (text[i] - '0');
  }
  switch (text.back()) {
    case 'd': return n * 86400;
    case 'h': return n * 3600;
    case 'm': return n * 60;
    case 's': return n;
    default: return bad();
  }
}


json::value optional_time(const std::optional<int64_t>& t) {
  return t ? json::value(*t) : json::value(nullptr);
}

json::object record_json(const ApiKeyRecord& r, int64_t now) {
  json::array scopes;
  for (const auto& s : r.scopes.items()) scopes.emplace_back(s);
  return json::object{{"id", r.id},
                      {"name", r.name},
                      {"principal", r.principal.to_cedar()},
                      {"scopes", std::move(scopes)},
                      {"state", authn::to_string(r.state(now))},
                      {"created_at", r.created_at},
                      {"expires_at", optional_time(r.expires_at)},
                      {"revoked_at", optional_time(r.revoked_at)},
                      {"last_used_at", optional_time(r.last_used_at)}};
}

Result<std::unique_ptr<ApiKeyStore>> open_store(const std::string& data_dir_flag) {
  return ApiKeyStore::open(resolve_data_dir(data_dir_flag));
}

struct CreateArgs {
  std::string name, principal, ttl, data_dir;
  std::vector<std::string> scopes;
  bool json = false;
};

int run_create(const CreateArgs& a) {
  authn::ApiKeySpec spec{a.name, a.principal, a.scopes, std::nullopt};
  if (!a.ttl.empty()) {
    auto ttl = parse_ttl(a.ttl);
    if (!ttl) return fail(ttl.error(), a.json);
    spec.ttl_s = *ttl;
  }
  auto store = open_store(a.data_dir);
  if (!store) return fail(store.error(), a.json);
  int64_t now = now_s();
  auto created = (*store)->create(spec, now);
  if (!created) return fail(created.error(), a.json);
  constexpr std::string_view kOnce = "this is the only time the key is shown: store it in a secret manager now";
  if (a.json) {
    json::object out = record_json(created->record, now);
    out["key"] = created->key;
    out["note"] = kOnce;
    std::cout << json::serialize(out) << "\n";
  } else {
    // The key alone on stdout, so `KEY=$(ztgate keys create ...)` works.
    std::cerr << "created API key " << created->record.id << " (" << created->record.name << ") for "
              << created->record.principal.to_cedar();
    if (created->record.expires_at) std::cerr << ", expires " << iso_time(*created->record.expires_at);
    std::cerr << "\nnote: " << kOnce << "\n";
    std::cout << created->key << "\n";
  }
  return kExitOk;
}

int run_list(const std::string& data_dir, bool as_json) {
  auto store = open_store(data_dir);
  if (!store) return fail(store.error(), as_json);
  auto records = (*store)->list();
  if (!records) return fail(records.error(), as_json);
  int64_t now = now_s();
  if (as_json) {
    json::array out;
    for (const auto& r : *records) out.push_back(record_json(r, now));
    std::cout << json::serialize(json::object{{"keys", std::move(out)}}) << "\n";
    return kExitOk;
  }
  if (records->empty()) {
    std::cout << "no API keys\n";
    return kExitOk;
  }
  for (const auto& r : *records) {
    std::cout << r.id << "  " << authn::to_string(r.state(now)) << "  " << r.principal.to_cedar() << "  "
              << r.name << "  scopes=[" << r.scopes.to_string() << "]  created=" << iso_time(r.created_at);
    if (r.expires_at) std::cout << "  expires=" << iso_time(*r.expires_at);
    if (r.revoked_at) std::cout << "  revoked=" << iso_time(*r.revoked_at);
    if (r.last_used_at) std::cout << "  last_used=" << iso_time(*r.last_used_at);
    std::cout << "\n";
  }
  return kExitOk;
}

int run_revoke(const std::string& id, const std::string& data_dir, bool as_json) {
  auto store = open_store(data_dir);
  if (!store) return fail(store.error(), as_json);
  if (auto st = (*store)->revoke(id, now_s()); !st) return fail(st.error(), as_json);
  if (as_json) std::cout << json::serialize(json::object{{"revoked", id}}) << "\n";
  else std::cout << "revoked API key " << id << "\n";
  return kExitOk;
}

// The key comes on stdin so it stays out of shell history and `ps`.
int run_verify(const std::string& data_dir, bool as_json) {
  std::string key(kMaxStdinKeyBytes + 1, '\0');
  std::cin.read(key.data(), static_cast<std::streamsize>(key.size()));
  key.resize(static_cast<size_t>(std::cin.gcount()));
  if (key.size() > kMaxStdinKeyBytes)
    return fail(make_error("api_key_malformed", "stdin holds more than an API key"), as_json, kExitRefused);
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r' || key.back() == ' ')) key.pop_back();
  auto store = open_store(data_dir);
  if (!store) return fail(store.error(), as_json);
  int64_t now = now_s();
  auto record = (*store)->verify(key, now);
  if (!record) {
    bool store_failed = record.error().code == "api_key_store";
    return fail(record.error(), as_json, store_failed ? kExitError : kExitRefused);
  }
  if (as_json) {
    std::cout << json::serialize(json::object{{"valid", true}, {"key", record_json(*record, now)}}) << "\n";
  } else {
    std::cout << "valid: API key " << record->id << " (" << record->name << ") for "
              << record->principal.to_cedar() << " scopes=[" << record->scopes.to_string() << "]\n";
  }
  return kExitOk;
}

}  // namespace

void add_keys_commands(CLI::App& app, int& exit_code) {
  auto* keys = app.add_subcommand("keys", "API keys for services and agents (stored only as salted HMACs)");
  keys->require_subcommand(1);
  const std::string data_dir_help = "data directory (default: $ZTGATE_DATA_DIR, else ./ztgate-data)";

  auto create_args = std::make_shared<CreateArgs>();
  auto* create = keys->add_subcommand("create", "create a key; it is printed once and never again");
  create->add_option("--name", create_args->name, "a label for operators, e.g. billing-prod")->required();
  create->add_option("--principal", create_args->principal, "Service::\"id\" or Agent::\"id\"")->required();
  create->add_option("--scope", create_args->scopes, "a scope the key carries (repeatable)");
  create->add_option("--ttl", create_args->ttl, "lifetime, e.g. 30d, 12h, 90m (default: no expiry)");
  create->add_option("--data-dir", create_args->data_dir, data_dir_help);
  create->add_flag("--json", create_args->json, "print JSON");
  create->callback([create_args, &exit_code] { exit_code = run_create(*create_args); });

  struct Common {
    std::string data_dir, id;
    bool json = false;
  };
  auto list_args = std::make_shared<Common>();
  auto* list = keys->add_subcommand("list", "list keys and their state (never a secret)");
  list->add_option("--data-dir", list_args->data_dir, data_dir_help);
  list->add_flag("--json", list_args->json, "print JSON");
  list->callback([list_args, &exit_code] { exit_code = run_list(list_args->data_dir, list_args->json); });

  auto revoke_args = std::make_shared<Common>();
  auto* revoke = keys->add_subcommand("revoke", "revoke a key; verification refuses it from the next request on");
  revoke->add_option("id", revoke_args->id, "the key id (16 hex characters)")->required();
  revoke->add_option("--data-dir", revoke_args->data_dir, data_dir_help);
  revoke->add_flag("--json", revoke_args->json, "print JSON");
  revoke->callback([revoke_args, &exit_code] {
    exit_code = run_revoke(revoke_args->id, revoke_args->data_dir, revoke_args->json);
  });

  auto verify_args = std::make_shared<Common>();
  auto* verify = keys->add_subcommand("verify", "check a key read from stdin (exit 0 valid, 2 refused)");
  verify->add_option("--data-dir", verify_args->data_dir, data_dir_help);
  verify->add_flag("--json", verify_args->json, "print JSON");
  verify->callback([verify_args, &exit_code] { exit_code = run_verify(verify_args->data_dir, verify_args->json); });
}

}  // namespace ztgate::cli
