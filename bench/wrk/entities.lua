-- wrk: GET /v1/entities?name=... for names in several languages and spellings.
local names = {"chengdu", "%E6%88%90%E9%83%BD", "Chongqing", "%E9%87%8D%E5%BA%86",
               "D%C3%BCsseldorf", "Duesseldorf", "DUSSELDORF", "Qingdao", "Montpellier",
               "Mannheim", "Europe"}
local n = 0

function request()
  n = n + 1
  return wrk.format("GET", "/v1/entities?name=" .. names[n % #names + 1])
end
