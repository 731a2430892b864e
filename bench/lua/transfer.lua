-- createTransfer requests between random pairs of accounts, each with a new idempotency key.
-- Argument after `--`: a parameters file written by bench/scenarios/transfers.py, one value a
-- line: the Authorization header value, the key prefix (unique per run), the largest amount
-- in minor units, the mutation as a JSON string, then the account ids.
-- Answers: CreateTransferSuccess (not a replay) counts as ok, an InsufficientFundsRejection
-- (a random walk may empty an account) as rejected, anything else as bad (see common.lua): a
-- replay or an IdempotencyConflictRejection would mean a key was used twice.
package.path = debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua;" .. package.path
require("common")

local headers, prefix, amount_max, query, accounts
local serial = 0

function init(args)
  local lines = {}
  for line in io.lines(args[1]) do table.insert(lines, line) end
  headers = { ["Content-Type"] = "application/json", ["Authorization"] = lines[1] }
  prefix, amount_max, query = lines[2], tonumber(lines[3]), lines[4]
  accounts = {}
  for index = 5, #lines do table.insert(accounts, lines[index]) end
  math.randomseed(os.time() * 1000 + thread_id)
end

function request()
  serial = serial + 1
  sent = sent + 1
  local debited = math.random(#accounts)
  local credited = math.random(#accounts - 1)
  if credited >= debited then credited = credited + 1 end
  local body = string.format(
    '{"query":%s,"variables":{"input":{"debitedAccountId":"%s","creditedAccountId":"%s",' ..
    '"amount":{"amount":%d,"currency":"EUR"},"idempotencyKey":"%s-%d-%d"}}}',
    query, accounts[debited], accounts[credited], math.random(amount_max), prefix, thread_id,
    serial)
  return wrk.format("POST", "/graphql", headers, body)
end

function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then
    count_bad(status, body)
  elseif string.find(body, '"CreateTransferSuccess"', 1, true)
      and string.find(body, '"idempotentReplay":false', 1, true) then
    ok = ok + 1
  elseif string.find(body, '"InsufficientFundsRejection"', 1, true) then
    rejected = rejected + 1
  else
    count_bad(status, body)
  end
end
