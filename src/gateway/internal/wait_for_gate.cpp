// internal::wait_for_gate (server_support.h): its own file because it is a
// coroutine, which the fuzzing build (clang-14 + sanitizers) cannot compile.
#include <boost/asio.hpp>

#include <memory>
#include <optional>

#include "gateway/internal/server_support.h"

namespace ztgate::gateway::internal {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

// Waits for a ReadyGate without blocking the thread: its callback (from any
// thread) is posted back here and cancels the deadline timer.
awaitable<bool> wait_for_gate(ReadyGate& gate) {
  struct State {
    explicit State(asio::any_io_executor ex) : timer(ex) {}
    asio::steady_timer timer;
    std::optional<bool> result;
  };
  auto ex = co_await asio::this_coro::executor;
  auto state = std::make_shared<State>(ex);
  state->timer.expires_after(gate.timeout());
  gate.when_ready([state, ex](bool ok) {
    asio::post(ex, [state, ok] {
      if (state->result) return;
      state->result = ok;
      state->timer.cancel();
    });
  });
  boost::system::error_code ec;
  co_await state->timer.async_wait(asio::redirect_error(use_awaitable, ec));
  co_return state->result.value_or(false);
}

}  // namespace ztgate::gateway::internal
