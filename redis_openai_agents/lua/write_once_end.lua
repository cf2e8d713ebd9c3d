-- The end of every write: run it, then record its outcome under its write id. The hash
-- itself expires with its longest-lived record, so it never outlives them.
-- KEYS: as for write_once.lua (the write-record hash is WRITES).
local outcome = write()
if type(outcome) == 'table' and outcome.err then return outcome end
if WRITE_ID ~= '' then
  redis.call('HSET', WRITES, WRITE_ID, cjson.encode({outcome}))
  redis.call('HPEXPIRE', WRITES, WRITE_TTL, 'FIELDS', 1, WRITE_ID)
  if redis.call('PTTL', WRITES) < tonumber(WRITE_TTL) then
    redis.call('PEXPIRE', WRITES, WRITE_TTL)
  end
end
return outcome
