-- The end of every write: run it, then record its outcome under its write id. Each record
-- expires on its own, and Redis deletes the hash with its last record.
-- A new record hash starts as a hash table: its first record is padded past the default
-- hash-max-listpack-value (64 bytes). As a listpack with field expiry (up to 512 records
-- on Redis 8), every lookup and every insert would scan all of a user's records.
-- KEYS: as for write_once.lua (the write-record hash is WRITES).
local outcome = write()
if type(outcome) == 'table' and outcome.err then return outcome end
if WRITE_ID ~= '' then
  local record = cjson.encode({outcome})
  if redis.call('EXISTS', WRITES) == 0 then record = record .. string.rep(' ', 64) end
  if redis.REDIS_VERSION_NUM >= 0x080000 then
    redis.call('HSETEX', WRITES, 'PX', WRITE_TTL, 'FIELDS', 1, WRITE_ID, record)
  else
    redis.call('HSET', WRITES, WRITE_ID, record)
    redis.call('HPEXPIRE', WRITES, WRITE_TTL, 'FIELDS', 1, WRITE_ID)
  end
end
return outcome
