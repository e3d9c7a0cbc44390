#include "gateway/internal/retrieval_backend.h"

#include <boost/json.hpp>

#include "data/catalog.h"
#include "net/https_client.h"

namespace ztgate::gateway::internal {
namespace {

namespace json = boost::json;

Error failed(std::string message) { return make_error("retrieval_backend_failed", std::move(message)); }

const json::value* at(const json::value& v, const std::string& pointer) {
  if (pointer.empty()) return &v;
  boost::system::error_code ec;
  return v.find_pointer(pointer, ec);
}

}  // namespace

Result<BackendAnswer> map_backend_answer(const config::RetrievalBackend& b, std::string_view body, size_t k,
                                         size_t max_document_bytes) {
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 64;
  json::value answer = json::parse(body, ec, {}, options);
  if (ec) return failed("the retrieval service's answer is not JSON");
  const json::value* results = at(answer, b.results);
  if (!results || !results->is_array()) return failed("the retrieval service's answer has no results array at " + b.results);
  BackendAnswer out;
  for (const auto& r : results->get_array()) {
    if (out.documents.size() == k) break;
    const json::value* id = at(r, b.id);
    const json::value* text = at(r, b.text);
    if (!id || !id->is_string() || id->get_string().empty() || id->get_string().size() > data::kMaxIdBytes || !text ||
        !text->is_string() || text->get_string().size() > max_document_bytes) {
      ++out.skipped;
      continue;
    }
    data::IndexedDocument d;
    d.id = std::string(id->get_string());
    d.text = std::string(text->get_string());
    auto optional_text = [&](const std::string& pointer, size_t max, std::string& into) {
      const json::value* v = pointer.empty() ? nullptr : at(r, pointer);
      if (!v || !v->is_string()) return true;
      if (v->get_string().size() > max) return false;
      into = std::string(v->get_string());
      return true;
    };
    data::IndexLimits limits;
    if (!optional_text(b.title, limits.max_title_bytes, d.title) ||
        !optional_text(b.summary, limits.max_summary_bytes, d.summary)) {
      ++out.skipped;
      continue;
    }
    double score = 0;
    if (const json::value* s = b.score.empty() ? nullptr : at(r, b.score)) {
      if (s->is_double()) score = s->get_double();
      if (s->is_int64()) score = static_cast<double>(s->get_int64());
    }
    out.documents.push_back(std::move(d));
    out.scores.push_back(score);
  }
  return out;
}

Result<BackendAnswer> backend_search(const config::RetrievalBackend& b, std::string_view query, size_t k,
                                     size_t max_document_bytes) {
  json::object request{{b.query_member, query}};
  if (!b.k_member.empty()) request[b.k_member] = static_cast<int64_t>(k);
  net::HttpsClientOptions options;
  options.allow_plain_http = b.allow_plain_http;
  options.total_timeout = std::chrono::milliseconds(b.timeout_ms);
  options.connect_timeout = std::min(options.connect_timeout, options.total_timeout);
  options.max_body_bytes = static_cast<size_t>(b.max_response_bytes);
  auto r = net::http_post(b.url, "application/json", json::serialize(request), {}, options);
  if (!r) return failed("the retrieval service failed: " + r.error().code + ": " + r.error().message);
  if (r->status < 200 || r->status > 299)
    return failed("the retrieval service answered HTTP " + std::to_string(r->status));
  return map_backend_answer(b, r->body, k, max_document_bytes);
}

}  // namespace ztgate::gateway::internal
