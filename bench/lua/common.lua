-- Shared by the bench's wrk scripts: per-thread counters, and one JSON line at the end.
--
-- Each thread counts its answers in globals (ok, rejected, bad, sample; `sent` where a script
-- builds each request itself); `done` adds them up
-- across threads (thread:get) and prints `BENCH_JSON {...}` with wrk's own figures, which
-- bench/load.py parses. A "bad" answer is a non-200 status or a GraphQL `errors` member.

local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("thread_id", next_id)
  table.insert(threads, thread)
end

sent, ok, rejected, bad, sample = 0, 0, 0, 0, ""

function count_bad(status, body)
  bad = bad + 1
  if sample == "" then
    sample = status .. " " .. string.sub(body or "", 1, 300)
  end
end

local function json_string(text)
  text = string.gsub(text, '[%c"\\]', function(c)
    if c == '"' or c == "\\" then return "\\" .. c end
    return string.format("\\u%04x", string.byte(c))
  end)
  return '"' .. text .. '"'
end

function done(summary, latency, requests)
  local totals = { sent = 0, ok = 0, rejected = 0, bad = 0 }
  local first_sample = ""
  for _, thread in ipairs(threads) do
    for name, _ in pairs(totals) do
      totals[name] = totals[name] + (thread:get(name) or 0)
    end
    if first_sample == "" then first_sample = thread:get("sample") or "" end
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"sent":%d,"ok":%d,"rejected":%d,"bad":%d,' ..
    '"status_errors":%d,"socket_errors":%d,"p50_us":%d,"p99_us":%d,"mean_us":%.1f,' ..
    '"sample":%s}\n',
    summary.requests, summary.duration, totals.sent, totals.ok, totals.rejected, totals.bad,
    errors.status, errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean, json_string(first_sample)))
end
