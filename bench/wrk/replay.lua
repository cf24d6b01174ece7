-- wrk: GET /v1/replay, the counts projection for every entity on a random
-- valid day between two years (the log's valid-time span).
-- Usage: wrk ... -s replay.lua URL -- FIRST_YEAR LAST_YEAR
local first, last = 1981, 2025
local threads = 0  -- setup() counts the threads in the main state

-- thread_no is a global that setup() sets in each thread's own state
-- (thread:set); a local of that name would hide it.
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
  local day = string.format("%04d-%02d-%02d", math.random(first, last), math.random(1, 12),
                            math.random(1, 28))
  return wrk.format("GET", "/v1/replay?projection=counts&as_of=" .. day)
end
