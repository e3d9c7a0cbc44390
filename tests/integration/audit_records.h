// Reading a running gateway's audit trail from an integration test: the
// SQLite store in its data directory (read-only; WAL lets us read while it
// writes), each sealed record parsed, with the indexed columns beside it
// under "_decision", "_route" and "_request_id".
#pragma once

#include <boost/json.hpp>

#include <chrono>
#include <filesystem>
#include <string_view>
#include <thread>
#include <vector>

#include "audit/store.h"

namespace ztgate::itest {

inline std::vector<boost::json::object> audit_records(const std::filesystem::path& store_path) {
  std::vector<boost::json::object> out;
  if (!std::filesystem::exists(store_path)) return out;
  auto store = ztgate::audit::AuditStore::open(store_path.string(), /*read_only=*/true);
  if (!store) return out;
  uint64_t after = 0;
  while (true) {
    auto batch = (*store)->read_after(after, 1000);
    if (!batch || batch->empty()) break;
    for (const auto& r : *batch) {
      auto o = boost::json::parse(r.text).as_object();
      o["_decision"] = r.event.decision;
      o["_route"] = r.event.route;
      o["_request_id"] = r.event.request_id;
      out.push_back(std::move(o));
    }
    after = batch->back().seq;
  }
  return out;
}

// The last record whose `key` (an indexed column: "_request_id", "_route")
// equals `value`, waiting up to `wait` for it to become durable; {} if none.
inline boost::json::object audit_record_where(const std::filesystem::path& store_path, std::string_view key,
                                              std::string_view value,
                                              std::chrono::milliseconds wait = std::chrono::milliseconds(3000)) {
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (true) {
    auto records = audit_records(store_path);
    for (auto it = records.rbegin(); it != records.rend(); ++it)
      if (it->at(key).as_string() == value) return *it;
    if (std::chrono::steady_clock::now() >= deadline) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// A member by dotted path ("unmapped.upstream.error"); null when absent.
inline boost::json::value member_at(const boost::json::object& o, std::string_view path) {
  const boost::json::object* cur = &o;
  while (true) {
    size_t dot = path.find('.');
    const boost::json::value* v = cur->if_contains(path.substr(0, dot));
    if (v == nullptr) return nullptr;
    if (dot == std::string_view::npos) return *v;
    if (!v->is_object()) return nullptr;
    cur = &v->as_object();
    path.remove_prefix(dot + 1);
  }
}

}  // namespace ztgate::itest
