#include <boost/json.hpp>

#include "common/clock.h"
#include "pipeline/stages.h"

namespace ztgate::pipeline {
namespace {

namespace json = boost::json;

// The key of the exchange's session facts: the delegation's task id (a task
// spans sessions and protocols), else the adapter's session.
std::string session_key_of(const Exchange& x) {
  if (const json::value* d = x.context.if_contains("delegation"); d && d->is_object())
    if (const json::value* t = d->as_object().if_contains("task"); t && t->is_string() && !t->as_string().empty())
      return "task:" + std::string(t->as_string());
  if (!x.session_key.empty()) return "session:" + x.session_key;
  return "";
}

class SessionStage final : public Stage {
 public:
  explicit SessionStage(state::SessionStore& store) : store_(store) {}
  const char* name() const override { return "session"; }

  Flow on_request(Exchange& x) override {
    std::string key = session_key_of(x);
    if (!key.empty()) x.context["session"] = state::session_context(store_.facts(key, now_ms()));
    return Flow::kContinue;
  }

  void on_complete(Exchange& x) override {
    if (!x.observation) return;
    std::string key = session_key_of(x);
    if (!key.empty()) store_.observe(key, *x.observation, now_ms());
  }

 private:
  state::SessionStore& store_;
};

}  // namespace

std::unique_ptr<Stage> make_session_stage(state::SessionStore& store) { return std::make_unique<SessionStage>(store); }

}  // namespace ztgate::pipeline
