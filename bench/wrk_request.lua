-- wrk script of the vorel-lite benchmarks (bench/run.py sets the environment it reads).
--
-- BENCH_METHOD, BENCH_PATH, BENCH_BODY  the request; path and body are templates whose
--                                       placeholders are filled as fill() in endpoints.py does
-- BENCH_KEYS                            a file of API keys, one a line, rotated per request
-- BENCH_THREADS                         wrk's -t
-- BENCH_LEADS, BENCH_CONVERSATIONS      how many seeded leads / conversations with a lead
-- BENCH_FRESH_START                     first never-used number ({unique}, {fresh_conversation})
-- BENCH_LEAD_PREFIX, BENCH_CONVERSATION_PREFIX, BENCH_FRESH_PREFIX  id prefixes (seed.py)
-- BENCH_DEEP_CURSOR                     the id {deep_cursor} stands for
-- BENCH_OFFERING_PREFIX, BENCH_OFFERINGS  the seeded offerings {offering} rotates over
-- BENCH_APPOINTMENT_PREFIX, BENCH_APPOINTMENTS  the seeded appointments {appointment} rotates over
-- BENCH_HOSTS                           "host:port,host:port": thread i sends to host i mod n
--                                       (empty: every thread to the URL's host)
--
-- done() prints one line "BENCH_JSON {...}" with the counts, the latency percentiles and
-- "numbers_used": how many numbers from BENCH_FRESH_START on the requests took (the threads
-- take them in turn, so a thread that sent more than the others leaves gaps: this is not the
-- request count).

local env = os.getenv
local threads_made = 0
local threads = {}

local function host_addresses()
   local addresses = {}
   for host, port in (env("BENCH_HOSTS") or ""):gmatch("([^,:]+):(%d+)") do
      addresses[#addresses + 1] = wrk.lookup(host, port)[1]
   end
   return addresses
end

local addresses = nil

function setup(thread)
   addresses = addresses or host_addresses()
   if #addresses > 0 then
      thread.addr = addresses[(threads_made % #addresses) + 1]
   end
   thread:set("thread_index", threads_made)
   threads_made = threads_made + 1
   threads[threads_made] = thread
end

local function read_keys(path)
   local keys = {}
   for line in io.lines(path) do
      if #line > 0 then keys[#keys + 1] = line end
   end
   return keys
end

function init(args)
   method = env("BENCH_METHOD") or "GET"
   path_template = env("BENCH_PATH") or "/"
   body_template = env("BENCH_BODY") or ""
   keys = env("BENCH_KEYS") and read_keys(env("BENCH_KEYS")) or {}
   thread_count = tonumber(env("BENCH_THREADS") or "1")
   leads = tonumber(env("BENCH_LEADS") or "1")
   conversations = tonumber(env("BENCH_CONVERSATIONS") or "1")
   fresh_start = tonumber(env("BENCH_FRESH_START") or "0")
   lead_prefix = env("BENCH_LEAD_PREFIX") or ""
   conversation_prefix = env("BENCH_CONVERSATION_PREFIX") or ""
   fresh_prefix = env("BENCH_FRESH_PREFIX") or ""
   deep_cursor = env("BENCH_DEEP_CURSOR") or ""
   offering_prefix = env("BENCH_OFFERING_PREFIX") or ""
   offerings = tonumber(env("BENCH_OFFERINGS") or "1")
   appointment_prefix = env("BENCH_APPOINTMENT_PREFIX") or ""
   appointments = tonumber(env("BENCH_APPOINTMENTS") or "1")
   index = tonumber(thread_index or 0)
   sent = 0
end

local function fill(template, seq, unique)
   return (template:gsub("{(%w[%w_]*)}", function(name)
      if name == "lead" then
         return lead_prefix .. string.format("%012x", seq % leads)
      elseif name == "conversation" then
         return conversation_prefix .. string.format("%012x", seq % conversations)
      elseif name == "fresh_conversation" then
         return fresh_prefix .. string.format("%012x", unique)
      elseif name == "unique" then
         return tostring(unique)
      elseif name == "deep_cursor" then
         return deep_cursor
      elseif name == "offering" then
         return offering_prefix .. string.format("%012x", seq % offerings)
      elseif name == "appointment" then
         return appointment_prefix .. string.format("%012x", seq % appointments)
      end
      return nil -- unknown placeholders stay as they are
   end))
end

function request()
   -- Request number seq of this thread; threads interleave, so no two share a number.
   local seq = index + thread_count * sent
   sent = sent + 1
   local unique = fresh_start + seq
   local headers = {}
   if #keys > 0 then
      headers["Authorization"] = "Bearer " .. keys[(seq % #keys) + 1]
   end
   local body = nil
   if #body_template > 0 then
      headers["Content-Type"] = "application/json"
      body = fill(body_template, seq, unique)
   end
   return wrk.format(method, fill(path_template, seq, unique), headers, body)
end

local function numbers_used()
   local used = 0
   for _, thread in ipairs(threads) do
      local sent = thread:get("sent") or 0
      if sent > 0 then
         used = math.max(used, thread:get("index") + #threads * (sent - 1) + 1)
      end
   end
   return used
end

function done(summary, latency, requests)
   local e = summary.errors
   local p = {}
   for _, q in ipairs({50, 90, 99, 99.9}) do
      p[#p + 1] = string.format('"%s": %d', tostring(q), latency:percentile(q))
   end
   io.write(string.format(
      'BENCH_JSON {"requests": %d, "numbers_used": %d, "duration_us": %d, "bytes": %d, ' ..
      '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
      '"latency_us": {"min": %d, "max": %d, "mean": %.1f, "stdev": %.1f}, ' ..
      '"percentiles_us": {%s}}\n',
      summary.requests, numbers_used(), summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.min, latency.max, latency.mean, latency.stdev, table.concat(p, ", ")))
end
