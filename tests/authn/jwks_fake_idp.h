// Test doubles for key-source cache logic: a manual steady clock and an
// in-memory IdP that serves canned responses per URL and counts requests.
// Real keys and signatures still come from test_keys.h; the real-server path
// is covered by tests/integration/jwks_https_itest.cpp.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "authn/jwks_source.h"

namespace ztgate::authn::testing {

struct ManualClock {
  std::shared_ptr<std::chrono::steady_clock::time_point> now =
      std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::hours(1000));
  void advance(std::chrono::seconds d) const { *now += d; }
  JwksSource::Clock fn() const {
    return [now = now] { return *now; };
  }
};

struct FakeIdp {
  struct State {
    std::mutex mu;
    std::map<std::string, Result<net::HttpResponse>> routes;
    std::map<std::string, int> hits;
  };
  std::shared_ptr<State> state = std::make_shared<State>();

  void serve(const std::string& url, std::string body, std::string cache_control = "") const {
    std::lock_guard lock(state->mu);
    state->routes.insert_or_assign(
        url, net::HttpResponse{200, std::move(cache_control), "application/json", std::move(body), ""});
  }
  void fail(const std::string& url, std::string code = "net_http_status") const {
    std::lock_guard lock(state->mu);
    state->routes.insert_or_assign(url, make_error(std::move(code), "HTTP status 503"));
  }
  int hits(const std::string& url) const {
    std::lock_guard lock(state->mu);
    auto it = state->hits.find(url);
    return it == state->hits.end() ? 0 : it->second;
  }
  JwksSource::Fetcher fn() const {
    return [s = state](const std::string& url) -> Result<net::HttpResponse> {
      std::lock_guard lock(s->mu);
      ++s->hits[url];
      auto it = s->routes.find(url);
      if (it == s->routes.end()) return make_error("net_http_status", "HTTP status 404");
      return it->second;
    };
  }
};

}  // namespace ztgate::authn::testing
