-- authzen.lua -- wrk script: POSTs AuthZEN bodies over keep-alive connections.
--
--   WRK_BODIES=bodies.lua WRK_KEY=ztg_... wrk -s bench/wrk/authzen.lua URL
--
-- WRK_BODIES names a Lua file that returns an array of JSON bodies (written by
-- bench/wrk/select_bodies.mjs: allows and denies interleaved). Each wrk thread
-- cycles through all of them, starting at a different offset, so requests
-- are spread over many principals, resources and policies. WRK_KEY, when set,
-- is sent as `Authorization: Bearer <key>`. Requests are formatted once in
-- init(): request() only picks the next one, so wrk's own cost stays small.
local bodies = dofile(assert(os.getenv("WRK_BODIES"), "set WRK_BODIES"))
local key = os.getenv("WRK_KEY")
local requests = {}
local next_index = 0
local thread_counter = 0

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
if key and key ~= "" then wrk.headers["Authorization"] = "Bearer " .. key end

function setup(thread)
  thread:set("offset", thread_counter * 7919)
  thread_counter = thread_counter + 1
end

function init(args)
  for i, body in ipairs(bodies) do
    requests[i] = wrk.format(nil, nil, nil, body)
  end
  next_index = (offset or 0) % #requests
end

function request()
  next_index = next_index % #requests + 1
  return requests[next_index]
end
