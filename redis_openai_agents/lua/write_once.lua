-- Write ids: every write carries an id, recorded with its outcome in the conversation's
-- own slot for a bounded time, so a write re-sent with the same id (by a retry, a proxy or
-- redis-py) is applied once and answers with its first outcome.
-- KEYS[1]: the write-record hash; the write's own keys follow.
-- ARGV[1]: write id ('' records nothing), ARGV[2]: how long the record lasts (ms); the
-- write's own arguments follow. Both are removed before the write itself runs.
local WRITES = table.remove(KEYS, 1)
local WRITE_ID = table.remove(ARGV, 1)
local WRITE_TTL = table.remove(ARGV, 1)
if WRITE_ID ~= '' then
  local first = redis.call('HGET', WRITES, WRITE_ID)
  if first then
    local outcome = cjson.decode(first)[1]
    if outcome == nil then return false end
    return outcome
  end
  -- Refuses on servers without hash-field expiry (Redis < 7.4) before anything is written.
  redis.call('HPEXPIRE', WRITES, WRITE_TTL, 'FIELDS', 1, WRITE_ID)
end
