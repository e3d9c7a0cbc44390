-- proxy.lua -- wrk script: POSTs one OpenAI chat-completions body over
-- keep-alive connections.
--
--   WRK_KEY=ztg_... wrk -s bench/wrk/proxy.lua http://127.0.0.1:PORT/v1/chat/completions
--
-- WRK_MODEL (default bench-model) names the model in the body. WRK_KEY, when
-- set, is sent as `Authorization: Bearer <key>` (nginx ignores it). The
-- request is formatted once in init(): request() returns the same string, so
-- wrk's own cost stays small. No response() callback: it would make wrk parse
-- every answer; the caller checks wrk's non-2xx line (and ztgate's counters).
local key = os.getenv("WRK_KEY")
local model = os.getenv("WRK_MODEL") or "bench-model"
local body = '{"model":"' .. model .. '","messages":[{"role":"user","content":"Say hello"}]}'
local formatted

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
if key and key ~= "" then wrk.headers["Authorization"] = "Bearer " .. key end

function init(args)
  formatted = wrk.format(nil, nil, nil, body)
end

function request()
  return formatted
end
