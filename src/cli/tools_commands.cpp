// `ztgate tools pending|approve|reject`: review MCP tool definitions that
// changed after they were pinned (src/mcp/tool_pins.h). pending shows what
// changed, field by field; approve and reject take the digest pending showed,
// so an admin decides on exactly the definition they reviewed. The gateway
// picks the decision up on its next tools/list.
//
// What an upstream wrote is shown escaped: control characters, C1 controls
// and bidirectional overrides could otherwise rewrite the admin's terminal or
// hide text from the review.
#include <boost/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>

#include "cli/cli_support.h"
#include "cli/commands.h"
#include "config/gateway_config.h"
#include "mcp/tool_pins.h"

namespace ztgate::cli {
namespace {

namespace json = boost::json;

constexpr size_t kMaxLinesPerChange = 200;
constexpr size_t kMaxFlattenDepth = 64;

struct StoreFlags {
  std::string config, store;
  bool json = false;
};

void add_store_flags(CLI::App* cmd, StoreFlags& f) {
  cmd->add_option("--config", f.config, "ztgate.yaml: the pins file it configures (mcp.pins.store)");
  cmd->add_option("--store", f.store, "the pins file (SQLite) instead of --config");
  cmd->add_flag("--json", f.json, "print JSON");
}

Result<std::string> pins_path(const StoreFlags& f) {
  if (!f.store.empty()) return f.store;
  if (f.config.empty()) return make_error("usage", "name the pins file with --config ztgate.yaml or --store tool-pins.db");
  auto c = config::load_gateway_config(f.config);
  if (!c) return c.error();
  return c->mcp.pins.empty() ? c->identity.data_dir + "/tool-pins.db" : c->mcp.pins;
}

Result<std::unique_ptr<mcp::PinStore>> open_pins(const StoreFlags& f) {
  auto path = pins_path(f);
  if (!path) return path.error();
  std::error_code ec;
  if (!std::filesystem::exists(*path, ec))
    return make_error("pins_missing", *path + " does not exist (the gateway creates it when it first lists tools)");
  return mcp::PinStore::open(*path, /*approve_first_use=*/false);
}

// Escapes what a terminal would act on: C0 and C1 controls, DEL, and the
// invisible or reordering code points (zero-width, bidi embeddings,
// overrides and isolates, BOM). Invalid UTF-8 bytes are escaped too.
std::string terminal_safe(std::string_view s) {
  auto hex = [](uint32_t cp) {
    char buf[16];
    std::snprintf(buf, sizeof buf, cp > 0xff ? "\\u%04x" : "\\x%02x", static_cast<unsigned>(cp));
    return std::string(buf);
  };
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) out += hex(c);
      else out += static_cast<char>(c);
      ++i;
      continue;
    }
    size_t len = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
    if (c >= 0xf5) len = 0;
    uint32_t cp = len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
    bool valid = len != 0 && i + len <= s.size();
    for (size_t k = 1; valid && k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) valid = false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (!valid) {
      out += hex(c);
      ++i;
      continue;
    }
    bool hidden = (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
                  (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff || cp == 0x061c;
    if (hidden) out += hex(cp);
    else out.append(s.substr(i, len));
    i += len;
  }
  return out;
}

// One line per leaf: `inputSchema.properties.path.type: "string"`. The
// definitions are canonical (keys sorted), so equal content gives equal lines.
void flatten(const json::value& v, const std::string& path, size_t depth, std::vector<std::string>& out) {
  if (depth > kMaxFlattenDepth) {
    out.push_back(path + ": " + json::serialize(v));
    return;
  }
  if (v.is_object() && !v.get_object().empty()) {
    for (const auto& kv : v.get_object())
      flatten(kv.value(), path.empty() ? std::string(kv.key()) : path + "." + std::string(kv.key()), depth + 1, out);
  } else if (v.is_array() && !v.get_array().empty()) {
    const auto& a = v.get_array();
    for (size_t i = 0; i < a.size(); ++i) flatten(a[i], path + "[" + std::to_string(i) + "]", depth + 1, out);
  } else {
    out.push_back(path + ": " + json::serialize(v));
  }
}

std::optional<json::value> parse_definition(const std::string& text) {
  if (text.empty()) return std::nullopt;
  json::parse_options opt;
  opt.max_depth = kMaxFlattenDepth;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec, {}, opt);
  if (ec) return std::nullopt;
  return v;
}

std::vector<std::string> definition_lines(const std::string& text) {
  std::vector<std::string> lines;
  if (text.empty()) return lines;
  if (auto v = parse_definition(text)) flatten(*v, "", 0, lines);
  else lines.push_back(text);  // deeper than we flatten: the canonical text itself
  return lines;
}

std::string short_digest(const std::string& d) { return d.empty() ? std::string("(none)") : d.substr(0, 12); }

void print_change(const mcp::PendingChange& c) {
  std::cout << terminal_safe(c.server) << " / " << terminal_safe(c.tool) << "  "
            << (c.pinned_digest.empty() ? "NEW TOOL" : "CHANGED") << "  first seen " << iso_time(c.first_seen_ms / 1000)
            << ", last seen " << iso_time(c.last_seen_ms / 1000) << "\n";
  std::cout << "  pinned: " << short_digest(c.pinned_digest) << "  seen: " << c.seen_digest << "\n";
  std::vector<std::string> before = definition_lines(c.pinned_definition);
  std::vector<std::string> after = definition_lines(c.seen_definition);
  std::set<std::string> before_set(before.begin(), before.end()), after_set(after.begin(), after.end());
  size_t shown = 0, hidden = 0;
  auto emit = [&](char sign, const std::string& line) {
    if (shown < kMaxLinesPerChange) {
      std::cout << "    " << sign << " " << terminal_safe(line) << "\n";
      ++shown;
    } else {
      ++hidden;
    }
  };
  for (const auto& line : before)
    if (!after_set.count(line)) emit('-', line);
  for (const auto& line : after)
    if (!before_set.count(line)) emit('+', line);
  if (hidden) std::cout << "    ... " << hidden << " more changed lines (--json shows both definitions)\n";
  std::cout << "  approve: ztgate tools approve " << terminal_safe(c.server) << " " << terminal_safe(c.tool)
            << " --digest " << c.seen_digest << " --by NAME\n"
            << "  reject:  ztgate tools reject " << terminal_safe(c.server) << " " << terminal_safe(c.tool)
            << " --digest " << c.seen_digest << " --by NAME\n\n";
}

json::value definition_json(const std::string& text) {
  if (text.empty()) return nullptr;
  if (auto v = parse_definition(text)) return std::move(*v);
  return json::value(text);
}

int run_pending(const StoreFlags& f) {
  auto store = open_pins(f);
  if (!store) return fail(store.error(), f.json);
  auto changes = (*store)->pending();
  if (!changes) return fail(changes.error(), f.json);
  if (f.json) {
    json::array out;
    for (const auto& c : *changes)
      out.push_back(json::object{{"server", c.server},
                                 {"tool", c.tool},
                                 {"pinned_digest", c.pinned_digest.empty() ? json::value(nullptr) : json::value(c.pinned_digest)},
                                 {"seen_digest", c.seen_digest},
                                 {"pinned_definition", definition_json(c.pinned_definition)},
                                 {"seen_definition", definition_json(c.seen_definition)},
                                 {"first_seen_ms", c.first_seen_ms},
                                 {"last_seen_ms", c.last_seen_ms}});
    std::cout << json::serialize(json::object{{"pending", std::move(out)}}) << "\n";
    return kExitOk;
  }
  if (changes->empty()) {
    std::cout << "no pending tool changes\n";
    return kExitOk;
  }
  std::cout << changes->size() << " tool definition(s) blocked until approved (- pinned, + seen):\n\n";
  for (const auto& c : *changes) print_change(c);
  return kExitOk;
}

struct DecideArgs {
  StoreFlags flags;
  std::string server, tool, digest, by;
};

int run_decide(const DecideArgs& a, bool approve) {
  std::string by = a.by;
  if (by.empty())
    if (const char* user = std::getenv("USER"); user != nullptr) by = user;
  if (by.empty()) return fail(Error{"usage", "name who decides with --by NAME"}, a.flags.json);
  auto store = open_pins(a.flags);
  if (!store) return fail(store.error(), a.flags.json);
  int64_t now_ms = now_s() * 1000;
  Status st = approve ? (*store)->approve(a.server, a.tool, a.digest, by, now_ms)
                      : (*store)->reject(a.server, a.tool, a.digest, by, now_ms);
  if (!st) return fail(st.error(), a.flags.json);
  const char* verb = approve ? "approved" : "rejected";
  if (a.flags.json) {
    std::cout << json::serialize(json::object{
                     {verb, json::object{{"server", a.server}, {"tool", a.tool}, {"digest", a.digest}, {"by", by}}}})
              << "\n";
  } else {
    std::cout << verb << " " << terminal_safe(a.server) << " / " << terminal_safe(a.tool) << " " << a.digest
              << (approve ? ": it is the pin now" : ": blocked") << "\n";
  }
  return kExitOk;
}

void add_decide_command(CLI::App* tools, const char* name, const char* help, bool approve, int& exit_code) {
  auto args = std::make_shared<DecideArgs>();
  auto* cmd = tools->add_subcommand(name, help);
  cmd->add_option("server", args->server, "the upstream server id (as in mcp.servers)")->required();
  cmd->add_option("tool", args->tool, "the tool name on that server (not namespaced)")->required();
  cmd->add_option("--digest", args->digest, "the digest `ztgate tools pending` showed")->required();
  cmd->add_option("--by", args->by, "who decides, for the audit trail (default: $USER)");
  add_store_flags(cmd, args->flags);
  cmd->callback([args, approve, &exit_code] { exit_code = run_decide(*args, approve); });
}

}  // namespace

void add_tools_commands(CLI::App& app, int& exit_code) {
  auto* tools = app.add_subcommand("tools", "MCP tool pinning: review and decide on changed tool definitions");
  tools->require_subcommand(1);

  auto pending_flags = std::make_shared<StoreFlags>();
  auto* pending = tools->add_subcommand("pending", "List tool definitions blocked until approved, with what changed");
  add_store_flags(pending, *pending_flags);
  pending->callback([pending_flags, &exit_code] { exit_code = run_pending(*pending_flags); });

  add_decide_command(tools, "approve", "Approve a pending definition (by digest): it becomes the tool's pin", true,
                     exit_code);
  add_decide_command(tools, "reject", "Reject a definition (by digest): the tool stays blocked while it is served",
                     false, exit_code);
}

}  // namespace ztgate::cli
