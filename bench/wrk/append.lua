-- wrk: POST /v1/events, one new fact per request (a count_reported whose
-- value no other request uses), recording every acknowledged append.
-- Usage: wrk ... -s append.lua URL -- ACK_DIR
-- Each wrk thread writes ACK_DIR/acks-<thread>.txt: one line per answer,
-- "<event id> <seq> <outcome>" for a 200, "status <code>" otherwise.
local counter = 0
local acks = nil
local threads = 0  -- setup() counts the threads in the main state

-- thread_no is a global that setup() sets in each thread's own state
-- (thread:set); a local of that name would hide it.
function setup(thread)
  threads = threads + 1
  thread:set("thread_no", threads)
end

function init(args)
  acks = assert(io.open(args[1] .. "/acks-" .. thread_no .. ".txt", "w"))
  acks:setvbuf("line")
end

local headers = {["Content-Type"] = "application/json"}
local source = '"sources":[{"title":"serve_load.sh","publisher":"twinline bench",' ..
               '"published":"2025","language":"en"}]'

function request()
  counter = counter + 1
  local value = thread_no * 1000000000 + counter
  local body = '[{"kind":"count_reported","date":"2025","entity":"chengdu",' ..
               '"metric":"load_test","value":' .. value .. ',' .. source .. '}]'
  return wrk.format("POST", "/v1/events", headers, body)
end

function response(status, headers, body)
  if status == 200 then
    local id, seq = body:match('"outcome":"%a+","id":"([^"]+)","seq":(%d+)')
    local outcome = body:match('"outcome":"(%a+)"')
    acks:write(id, " ", seq, " ", outcome, "\n")
  else
    acks:write("status ", status, "\n")
  end
end
