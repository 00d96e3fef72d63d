-- load_sessions.lua — wrk script of bench/load.sh: session churn. Each thread (one connection
-- each) loops: POST /v1/sessions, POST /v1/sessions/ID/append (a body from the file given
-- after `--`), DELETE /v1/sessions/ID; it stops after LOAD_SESSIONS / threads sessions.
-- done() prints one JSON line (requests, errors, latency of all three kinds together).
local bodies, i, state, id, made, per_thread = {}, 0, 0, nil, 0, 0

function init(args)
   for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
   per_thread = math.floor(tonumber(os.getenv("LOAD_SESSIONS") or "1000") / tonumber(args[2]))
end

function request()
   if state == 0 then
      return wrk.format("POST", "/v1/sessions", {["Content-Type"] = "application/json"}, "{}")
   elseif state == 1 then
      i = i % #bodies + 1
      return wrk.format("POST", "/v1/sessions/" .. id .. "/append",
                        {["Content-Type"] = "application/json"}, bodies[i])
   else
      return wrk.format("DELETE", "/v1/sessions/" .. id)
   end
end

function response(status, headers, body)
   if state == 0 then
      id = string.match(body, '"id":"(%x+)"')
      if status ~= 201 or not id then return end
      state = 1
   elseif state == 1 then
      state = 2
   else
      state = 0
      made = made + 1
      if made >= per_thread then wrk.thread:stop() end
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      '{"requests":%d,"seconds":%.3f,"rate":%.1f,"errors":%d,"non2xx_or_3xx":%d,' ..
      '"p50_ms":%.3f,"p99_ms":%.3f,"p999_ms":%.3f,"max_ms":%.3f}\n',
      summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
      e.connect + e.read + e.write + e.timeout, e.status,
      latency:percentile(50) / 1000, latency:percentile(99) / 1000,
      latency:percentile(99.9) / 1000, latency.max / 1000))
end
