#include "gateway/internal/retrieval_support.h"

#include <boost/json.hpp>

#include <algorithm>
#include <map>
#include <mutex>

#include "cedar/entities.h"
#include "common/json_keys.h"
#include "pipeline/snapshot.h"

namespace ztgate::gateway::internal {
namespace {

namespace json = boost::json;

constexpr int kMaxDepth = 16;
constexpr size_t kMaxSensitiveListed = 256;

}  // namespace

HttpResponse json_ok(const json::object& body) { return HttpResponse{200, "application/json", {}, json::serialize(body), {}, {}}; }

HttpResponse error_answer(const pipeline::Exchange& x, int status, const std::string& code, const std::string& message) {
  json::object error{{"code", code}, {"message", message}, {"request_id", x.request_id}};
  return HttpResponse{status, "application/json", {}, json::serialize(json::object{{"error", std::move(error)}}), {}, {}};
}

void bad_input(pipeline::Exchange& x, std::string code, std::string message) {
  x.ending = pipeline::Ending{400, std::move(code), std::move(message), {}, ""};
}

Result<json::object> parse_body(std::string_view body, std::initializer_list<std::string_view> allowed) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return json::object{};
  boost::system::error_code ec;
  std::optional<std::string> dup;
  json::value v = parse_json_checking_keys(body, kMaxDepth, ec, dup);
  if (ec) return make_error("retrieval_request_invalid", "/: the body is not valid JSON (or nests deeper than 16)");
  if (dup) return make_error("retrieval_request_invalid", "/: member `" + printable_key(*dup) + "` appears twice");
  if (!v.is_object()) return make_error("retrieval_request_invalid", "/: must be an object");
  for (const auto& m : v.get_object())
    if (std::find(allowed.begin(), allowed.end(), m.key()) == allowed.end())
      return make_error("retrieval_request_invalid", "/" + printable_key(m.key()) + ": unknown member");
  return std::move(v.get_object());
}

void record_sensitive(pipeline::Exchange& x, const data::DocumentCatalog& catalog,
                      const std::vector<data::Candidate>& candidates, const std::vector<data::ItemDecision>& decisions) {
  const std::string& from = x.snapshot->config.retrieval.sensitive_from;
  auto threshold = from.empty() ? std::nullopt : catalog.scale().rank(from);
  if (!threshold) return;
  json::array listed;
  int64_t count = 0;
  for (size_t i = 0; i < decisions.size(); ++i) {
    if (!decisions[i].allow || decisions[i].classification < *threshold) continue;
    ++count;
    if (listed.size() < kMaxSensitiveListed)
      listed.push_back(json::object{{"id", candidates[i].id}, {"label", catalog.scale().label(decisions[i].classification)}});
  }
  if (count == 0) return;
  x.details["sensitive_count"] = count;
  json::object event{{"documents", std::move(listed)},
                     {"count", count},
                     {"truncated", count > static_cast<int64_t>(kMaxSensitiveListed)},
                     {"sensitive_from", from},
                     {"catalog_version", catalog.version()}};
  x.side_records.push_back({"retrieve_sensitive", {"DocumentCatalog", "default"}, std::move(event)});
}

bool has_catalog(pipeline::Exchange& x) {
  if (x.snapshot->catalog) return true;
  x.ending = pipeline::Ending{503, "retrieval_unavailable", "this gateway has no document catalog", {}, ""};
  return false;
}


data::Reader reader_of(const pipeline::Exchange& x) {
  const auto& p = x.identity->principal;
  data::Reader r{cedar::EntityUID{p.type, p.id}, std::nullopt, {}};
  if (p.type == "User") {
    r.user = p.id;
    r.credential_groups = x.identity->groups;
  } else if (p.type == "Agent" && !x.chain.empty() && x.chain.front().type == "User") {
    r.user = x.chain.front().id;
  }
  return r;
}

std::optional<cedar::RecordPtr> cedar_context(const pipeline::Exchange& x) {
  auto context = cedar::parse_value_json(boost::json::serialize(x.context));
  if (!context || !context->is_record()) return std::nullopt;
  return std::make_shared<const cedar::ValueRecord>(context->as_record());
}

std::string catalog_key(std::string_view entities_key, uint64_t catalog_version) {
  std::string key(entities_key);
  key += "|catalog:";
  key += std::to_string(catalog_version);
  key += '|';
  return key;
}

Result<std::shared_ptr<const data::DocIndex>> doc_index(const std::string& dir, const data::IndexLimits& limits) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const data::DocIndex>> opened;
  std::string key = dir + '\n' + std::to_string(limits.max_query_bytes) + '\n' + std::to_string(limits.max_results);
  std::lock_guard lock(mu);
  if (auto it = opened.find(key); it != opened.end()) return it->second;
  auto index = data::DocIndex::open(dir + "/index.db", true, limits);
  if (!index) return index.error();
  if (opened.size() >= 16) opened.clear();  // bounded: a few directories over a process's reloads
  std::shared_ptr<const data::DocIndex> shared(std::move(*index));
  opened.emplace(std::move(key), shared);
  return shared;
}

}  // namespace ztgate::gateway::internal
