-- Remove and return the newest item of a conversation.
-- KEYS: meta, user index.  ARGV: message key prefix, conversation id.
local meta, uidx = KEYS[1], KEYS[2]
local mprefix, conv_id = ARGV[1], ARGV[2]
local m = redis.call('HMGET', meta, 'head', 'tail', 'count', 'ttl_ms', 'expires_at_ms')
if not m[2] then return false end
local head, tail, count = tonumber(m[1]), tonumber(m[2]), tonumber(m[3])
local popped = false
while tail > head and not popped do
  tail = tail - 1
  popped = redis.call('HGET', mprefix .. tail, 'metadata')
  if popped then redis.call('UNLINK', mprefix .. tail) end
end
if not popped then return false end
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local stamp = string.format('%d.%06d', tonumber(t[1]), tonumber(t[2]))
if count > 0 then count = count - 1 end
redis.call('HSET', meta, 'tail', tail, 'count', count, 'updated_at', stamp)
redis.call('ZADD', uidx, stamp, conv_id)
local ttl_ms = tonumber(m[4] or '0')
local expires_at = tonumber(m[5] or '0')
apply_ttl(meta, uidx, mprefix, head, tail, tail, now_ms, ttl_ms, expires_at, false, 1)
return popped
