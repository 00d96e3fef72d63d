-- load_check.lua — wrk script of bench/load.sh: POST /v1/check with bodies read from a file
-- (one JSON body a line, given after `--`), each thread starting at another line. With
-- LOAD_DELAY_MS set, each connection waits that long before each request (a fixed rate:
-- connections / delay). done() prints one JSON line of results.
local bodies, i = {}, 0
local delay_ms = tonumber(os.getenv("LOAD_DELAY_MS") or "0")
local path = os.getenv("LOAD_PATH") or "/v1/check"

function setup(thread)
   thread:set("tid", (tid_next or 0))
   tid_next = (tid_next or 0) + 1
end

function init(args)
   for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
   i = ((tid or 0) * 7919) % #bodies
end

if delay_ms > 0 then
   function delay() return delay_ms end
end

function request()
   i = i % #bodies + 1
   return wrk.format("POST", path, {["Content-Type"] = "application/json"}, bodies[i])
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      '{"requests":%d,"seconds":%.3f,"rate":%.1f,"errors":%d,"non2xx_or_3xx":%d,' ..
      '"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"p999_ms":%.3f,"max_ms":%.3f,"mean_ms":%.3f}\n',
      summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
      e.connect + e.read + e.write + e.timeout, e.status,
      latency:percentile(50) / 1000, latency:percentile(90) / 1000,
      latency:percentile(99) / 1000, latency:percentile(99.9) / 1000,
      latency.max / 1000, latency.mean / 1000))
end
