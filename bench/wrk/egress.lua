-- egress.lua -- wrk script: plain HTTP through ztgate's egress forward proxy
-- in absolute-form ("GET http://upstream/path HTTP/1.1"), over keep-alive
-- connections to the proxy.
--
--   WRK_TARGET=http://127.0.0.1:UP/hello WRK_KEY=ztg_... wrk -s bench/wrk/egress.lua http://127.0.0.1:PROXY/
--
-- wrk connects to the URL it is given (the proxy); every request names
-- WRK_TARGET as its absolute URL and carries `Proxy-Authorization: Bearer
-- <WRK_KEY>`. Formatted once in init().
local target = os.getenv("WRK_TARGET")
local key = os.getenv("WRK_KEY")
local formatted

function init(args)
  local headers = {}
  if key and key ~= "" then headers["Proxy-Authorization"] = "Bearer " .. key end
  formatted = wrk.format("GET", target, headers, nil)
end

function request()
  return formatted
end
