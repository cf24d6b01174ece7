-- wrk: GET /v1/diff of the network (partnerships and routes) between two
-- random years of the log's valid-time span, FROM < TO.
-- Usage: wrk ... -s diff.lua URL -- FIRST_YEAR LAST_YEAR
local first, last = 1981, 2025
local threads = 0

-- thread_no: see replay.lua.
function setup(thread)
  threads = threads + 1
  thread:set("thread_no", threads)
end

function init(args)
  first = tonumber(args[1]) or first
  last = tonumber(args[2]) or last
  math.randomseed(os.time() * 100 + thread_no)
end

function request()
  local from = math.random(first, last - 1)
  local to = math.random(from + 1, last)
  return wrk.format("GET", "/v1/diff?projection=network&from=" .. from .. "&to=" .. to)
end
