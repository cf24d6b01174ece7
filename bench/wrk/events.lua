-- wrk: GET /v1/events pages at random cursors, a third of them filtered by
-- an entity named in one of its languages, a third by kind and valid dates.
-- Usage: wrk ... -s events.lua URL -- LAST_SEQ
local names = {"chengdu", "%E6%88%90%E9%83%BD", "Chongqing", "%E9%87%8D%E5%BA%86",
               "D%C3%BCsseldorf", "Duesseldorf", "Qingdao", "Montpellier"}
local last = 96
local n = 0
local threads = 0  -- setup() counts the threads in the main state

-- thread_no is a global that setup() sets in each thread's own state
-- (thread:set); a local of that name would hide it.
function setup(thread)
  threads = threads + 1
  thread:set("thread_no", threads)
end

function init(args)
  last = tonumber(args[1]) or last
  math.randomseed(os.time() * 100 + thread_no)
end

function request()
  n = n + 1
  local after = math.random(0, math.max(0, last - 50))
  local path
  if n % 3 == 0 then
    path = "/v1/events?limit=50&entity=" .. names[math.random(#names)]
  elseif n % 3 == 1 then
    path = "/v1/events?limit=50&kind=partnership_established,route_opened&from=2000&to=2024&after=" .. after
  else
    path = "/v1/events?limit=50&after=" .. after
  end
  return wrk.format("GET", path)
end
