// Runs Cedar conformance tests (the cedar-integration-tests format, see
// ../shared/conformance/cedar/README.md) through ztgate's Cedar engine and
// compares decision, determining policies and erroring policies per request.
//
//   conformance_runner --root DIR [--root DIR2 ...] [--min-rate 0.995]
//                      [--max-mismatch-print 20] [--validate] [--report FILE] TEST.json|DIR ...
//
// Relative paths inside a test are resolved against each --root in turn.
// With --validate, also: the strict validator's verdict must equal the test's
// shouldValidate, the entities must pass entity validation, and every request
// with validateRequest (default true) must pass request validation.
// Exit status 0 when the match rate is at least --min-rate (default 1.0) and,
// with --validate, every validation check agrees.
#include <boost/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cedar/authorizer.h"
#include "cedar/entities.h"
#include "cedar/policy_set.h"
#include "cedar/schema.h"
#include "cedar/validator.h"

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace ztgate::cedar;

namespace {

struct Options {
  std::vector<fs::path> roots;
  std::vector<fs::path> inputs;
  double min_rate = 1.0;
  size_t max_print = 20;
  bool validate = false;
  std::string report;
};

struct Stats {
  size_t tests = 0, requests = 0, matched = 0;
  size_t validate_checked = 0, validate_agree = 0;
  size_t setup_failures = 0;
  std::vector<std::string> mismatches;
  std::vector<std::string> validate_mismatches;
};

bool read_file(const fs::path& p, std::string& out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

bool resolve_and_read(const Options& opt, const std::string& rel, const fs::path& test_dir,
                      std::string& out) {
  for (const auto& r : opt.roots)
    if (read_file(r / rel, out)) return true;
  return read_file(test_dir / rel, out);
}

std::set<std::string> id_set(const json::value* v) {
  std::set<std::string> out;
  if (v && v->is_array())
    for (const auto& x : v->get_array())
      if (x.is_string()) out.insert(std::string(x.get_string()));
  return out;
}

std::string join(const std::set<std::string>& s) {
  std::string out = "[";
  for (const auto& x : s) out += (out.size() > 1 ? "," : "") + x;
  return out + "]";
}

void run_test(const Options& opt, const fs::path& file, Stats& st) {
  std::string text;
  if (!read_file(file, text)) {
    st.setup_failures++;
    st.mismatches.push_back(file.string() + ": cannot read");
    return;
  }
  boost::system::error_code ec;
  json::parse_options po;
  po.max_depth = 256;
  json::value doc = json::parse(text, ec, {}, po);
  if (ec || !doc.is_object()) {
    st.setup_failures++;
    st.mismatches.push_back(file.string() + ": invalid test JSON");
    return;
  }
  const json::object& t = doc.get_object();
  if (!t.contains("policies") || !t.contains("requests")) return;  // not a test file
  st.tests++;
  const fs::path dir = file.parent_path();
  auto fail_all = [&](const std::string& why) {
    st.setup_failures++;
    size_t n = t.contains("requests") ? t.at("requests").as_array().size() : 0;
    st.requests += n;
    st.mismatches.push_back(file.string() + ": " + why + " (" + std::to_string(n) + " requests)");
  };

  std::optional<Schema> schema;
  if (const json::value* s = t.if_contains("schema")) {
    std::string schema_text;
    if (!resolve_and_read(opt, std::string(s->as_string()), dir, schema_text))
      return fail_all("cannot read schema");
    auto parsed = parse_schema(schema_text);
    if (!parsed) return fail_all("schema: " + parsed.error().to_string());
    schema = std::move(*parsed);
  }
  std::string policy_text, entities_text;
  if (!resolve_and_read(opt, std::string(t.at("policies").as_string()), dir, policy_text))
    return fail_all("cannot read policies");
  if (!resolve_and_read(opt, std::string(t.at("entities").as_string()), dir, entities_text))
    return fail_all("cannot read entities");
  auto policies = parse_policies(policy_text);
  if (!policies) return fail_all("policies: " + policies.error().to_string());
  auto entities = parse_entities_json(entities_text, schema ? &*schema : nullptr);
  if (!entities) return fail_all("entities: " + entities.error().to_string());

  if (opt.validate && schema) {
    auto ev = validate_entities(*schema, *entities);
    if (!ev) st.validate_mismatches.push_back(file.string() + ": entities fail schema validation: " +
                                              ev.error().message);
  }
  if (opt.validate && schema && t.contains("shouldValidate")) {
    bool expected = t.at("shouldValidate").as_bool();
    auto vr = validate_policies(*schema, *policies);
    st.validate_checked++;
    if (vr.ok() == expected) {
      st.validate_agree++;
    } else {
      std::string why = vr.errors.empty() ? "no errors" : vr.errors[0].message;
      st.validate_mismatches.push_back(file.string() + ": shouldValidate=" +
                                       (expected ? "true" : "false") + " but validator: " + why);
    }
  }

  auto shared = std::make_shared<const PolicySet>(std::move(*policies));
  Authorizer authz(shared);
  for (const auto& rv : t.at("requests").as_array()) {
    st.requests++;
    const json::object& r = rv.as_object();
    std::string desc = r.contains("description") ? std::string(r.at("description").as_string()) : "";
    std::string where = file.string() + " [" + desc + "]";
    auto p = parse_entity_uid_json(json::serialize(r.at("principal")));
    auto a = parse_entity_uid_json(json::serialize(r.at("action")));
    auto res = parse_entity_uid_json(json::serialize(r.at("resource")));
    if (!p || !a || !res) {
      st.mismatches.push_back(where + ": bad request uid");
      continue;
    }
    Request req{*p, *a, *res, nullptr};
    std::string ctx_text = r.contains("context") ? json::serialize(r.at("context")) : "{}";
    auto ctx = parse_context_json(ctx_text, schema ? &*schema : nullptr, *a);
    if (!ctx) {
      st.mismatches.push_back(where + ": context: " + ctx.error().message);
      continue;
    }
    req.context = *ctx;
    bool validate_request_flag = !r.contains("validateRequest") || r.at("validateRequest").as_bool();
    if (opt.validate && schema && validate_request_flag) {
      auto vr = validate_request(*schema, req);
      if (!vr) st.validate_mismatches.push_back(where + ": request fails schema validation: " +
                                                vr.error().message);
    }
    Response resp = authz.is_authorized(req, *entities);
    std::string want_decision(r.at("decision").as_string());
    std::string got_decision = resp.decision == Decision::kAllow ? "allow" : "deny";
    auto want_reason = id_set(r.if_contains("reason"));
    auto want_errors = id_set(r.if_contains("errors"));
    std::set<std::string> got_reason(resp.determining.begin(), resp.determining.end());
    std::set<std::string> got_errors;
    for (const auto& e : resp.errors) got_errors.insert(e.policy_id);
    if (want_decision == got_decision && want_reason == got_reason && want_errors == got_errors) {
      st.matched++;
    } else {
      std::string msg = where + ": want " + want_decision + " " + join(want_reason) + " errors " +
                        join(want_errors) + ", got " + got_decision + " " + join(got_reason) +
                        " errors " + join(got_errors);
      for (const auto& e : resp.errors) msg += "\n      " + e.policy_id + ": " + e.message;
      st.mismatches.push_back(msg);
    }
  }
}

void collect(const fs::path& p, std::vector<fs::path>& out) {
  if (fs::is_directory(p)) {
    std::vector<fs::path> found;
    for (const auto& e : fs::recursive_directory_iterator(p)) {
      auto name = e.path().filename().string();
      if (e.is_regular_file() && name.ends_with(".json") && !name.ends_with(".entities.json") &&
          name != "entities.json" && name != "package.json" && name != "package-lock.json")
        found.push_back(e.path());
    }
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  } else {
    out.push_back(p);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "missing value for " << a << "\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--root") opt.roots.push_back(next());
    else if (a == "--min-rate") opt.min_rate = std::stod(next());
    else if (a == "--max-mismatch-print") opt.max_print = std::stoul(next());
    else if (a == "--validate") opt.validate = true;
    else if (a == "--report") opt.report = next();
    else if (a == "-h" || a == "--help") {
      std::cout << "usage: conformance_runner --root DIR [--root DIR...] [--min-rate R] "
                   "[--validate] [--report FILE] TEST.json|DIR...\n";
      return 0;
    } else opt.inputs.push_back(a);
  }
  std::vector<fs::path> files;
  for (const auto& in : opt.inputs) collect(in, files);
  Stats st;
  for (const auto& f : files) {
    try {
      run_test(opt, f, st);
    } catch (const std::exception& e) {  // malformed test file: boost::json accessors throw
      st.setup_failures++;
      st.mismatches.push_back(f.string() + ": malformed test file: " + e.what());
    }
  }

  size_t shown = 0;
  for (const auto& m : st.mismatches) {
    if (shown++ >= opt.max_print) break;
    std::cout << "MISMATCH " << m << "\n";
  }
  if (st.mismatches.size() > opt.max_print)
    std::cout << "... " << st.mismatches.size() - opt.max_print << " more mismatches\n";
  for (size_t i = 0; i < st.validate_mismatches.size() && i < opt.max_print; ++i)
    std::cout << "VALIDATE " << st.validate_mismatches[i] << "\n";
  if (!opt.report.empty()) {
    std::ofstream out(opt.report);
    for (const auto& m : st.mismatches) out << "MISMATCH " << m << "\n";
    for (const auto& m : st.validate_mismatches) out << "VALIDATE " << m << "\n";
  }
  double rate = st.requests ? double(st.matched) / double(st.requests) : 0.0;
  std::cout << "tests: " << st.tests << ", requests: " << st.requests << ", matched: " << st.matched
            << " (" << rate * 100 << "%), setup failures: " << st.setup_failures << "\n";
  if (opt.validate)
    std::cout << "validation: " << st.validate_agree << "/" << st.validate_checked
              << " agree with shouldValidate; " << st.validate_mismatches.size()
              << " validation mismatches in all (policies, entities, requests)\n";
  if (st.requests == 0) return 1;
  if (opt.validate && !st.validate_mismatches.empty()) return 1;
  return rate + 1e-12 >= opt.min_rate ? 0 : 1;
}
