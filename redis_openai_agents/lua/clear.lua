-- Delete one conversation: its messages, its metadata and its entry in the user's list.
-- KEYS: meta, user index.  ARGV: message key prefix, conversation id.
local meta, uidx = KEYS[1], KEYS[2]
local m = redis.call('HMGET', meta, 'head', 'tail')
local removed = 0
if m[2] then
  for s = tonumber(m[1]), tonumber(m[2]) - 1 do
    removed = removed + redis.call('UNLINK', ARGV[1] .. s)
  end
end
redis.call('UNLINK', meta)
redis.call('ZREM', uidx, ARGV[2])
return removed
