-- POST one JSON body to /graphql (or another path), again and again; count the answers (see
-- common.lua). Arguments after `--`: <file with the JSON body> [<Authorization header value>]
-- [<path>]
package.path = debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua;" .. package.path
require("common")

local request_data

function init(args)
  local file = assert(io.open(args[1], "rb"))
  local body = file:read("*a")
  file:close()
  local headers = { ["Content-Type"] = "application/json" }
  if args[2] and args[2] ~= "" then headers["Authorization"] = args[2] end
  local path = (args[3] and args[3] ~= "") and args[3] or "/graphql"
  request_data = wrk.format("POST", path, headers, body)
end

function request()
  return request_data
end

function response(status, headers, body)
  if status == 200 and not string.find(body, '"errors"', 1, true) then
    ok = ok + 1
  else
    count_bad(status, body)
  end
end
