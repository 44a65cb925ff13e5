-- wrk script of the serving benchmark (bench/serving/bench.py): POSTs JSON bodies read from the
-- file named by $BENCH_BODIES (one body a line) to the URL's path, cycling through them, and
-- prints wrk's summary and latency percentiles as one JSON line starting with BENCH_JSON.
-- The requests are formatted once per thread in init(), so the hot loop only hands out strings.
local reqs, n, i = {}, 0, 0

init = function(args)
  local headers = {
    ["Host"] = wrk.host .. ":" .. wrk.port,
    ["Content-Type"] = "application/json",
  }
  for line in io.lines(os.getenv("BENCH_BODIES")) do
    if #line > 0 then
      n = n + 1
      reqs[n] = wrk.format("POST", wrk.path, headers, line)
    end
  end
  -- threads start at different bodies so that they do not send the same row at the same time
  i = (id or 0) * 7 % n
end

setup = function(thread)
  id = (id or 0) + 1
  thread:set("id", id)
end

request = function()
  i = i % n + 1
  return reqs[i]
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,' ..
    '"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"p999_us":%d,"mean_us":%.2f,"max_us":%d,"stdev_us":%.2f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.mean, latency.max, latency.stdev))
end
