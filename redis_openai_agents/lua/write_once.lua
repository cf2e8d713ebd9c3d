-- Write ids: every write carries an id, recorded with its outcome in the conversation's
-- own slot for a bounded time, so a write re-sent with the same id (by a retry, a proxy or
-- redis-py) is applied once and answers with its first outcome.
-- The last KEY: the write-record hash; the last two ARGV: the write id ('' records
-- nothing) and how long its record lasts (ms). They are taken off the ends, so the write
-- itself sees only its own keys and arguments.
-- KEYS: the write's own keys, then the write-record hash (last, in their slot).
local WRITES = KEYS[#KEYS]
KEYS[#KEYS] = nil
local WRITE_TTL = ARGV[#ARGV]
ARGV[#ARGV] = nil
local WRITE_ID = ARGV[#ARGV]
ARGV[#ARGV] = nil
if WRITE_ID ~= '' then
  -- Records need hash-field expiry: refuse older servers before anything is written.
  if redis.REDIS_VERSION_NUM < 0x070400 then
    return redis.error_reply('ERR write ids need Redis 7.4 or later (hash-field expiry)')
  end
  local first = redis.call('HGET', WRITES, WRITE_ID)
  if first then
    local outcome = cjson.decode(first)[1]
    if outcome == nil then return false end
    return outcome
  end
end
