// Output DLP on chat completion answers (OpenAI format): the text the model
// wrote (message content, refusals, tool-call arguments) is redacted as the
// exchange's redaction says (pipeline/output_redaction.h) before the client
// sees it.
//
//   JSON answers   held whole (at most kMaxHeldAnswerBytes), each text
//                  redacted, re-serialized. A blocking finding (a canary)
//                  turns the answer into 403 output_blocked.
//   SSE streams    event by event: each choice's content (and each tool
//                  call's arguments) goes through its own StreamRedactor,
//                  so a secret split across events is never let out in
//                  pieces; every event is passed on at once with the text
//                  released so far (possibly ""), the held-back rest joins
//                  the choice's finishing event. A blocking finding ends the
//                  stream with an error event
//                    data: {"error":{"code":"output_blocked",...}}
//                  and nothing after it.
// JSON that is not a completion or a chunk (an error object) is redacted
// string by string (pipeline::redact_answer_json), so it stays JSON; bytes
// that are not JSON at all are redacted as plain text. Findings are
// recorded in x.findings when the answer ends.
#pragma once

#include <memory>

#include "gateway/http_server.h"
#include "pipeline/exchange.h"

namespace ztgate::gateway {

inline constexpr size_t kMaxHeldAnswerBytes = size_t{16} << 20;  // a JSON answer held for redaction
inline constexpr size_t kMaxSseEventBytes = size_t{4} << 20;     // one SSE event

// `x` must outlive the filter and have x.redaction set.
std::unique_ptr<BodyFilter> make_chat_answer_filter(pipeline::Exchange& x, bool event_stream);

}  // namespace ztgate::gateway
