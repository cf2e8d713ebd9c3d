-- Delete one conversation: its messages, its metadata and its entry in the user's list.
-- The user's list then expires with the last of the conversations it still names.
-- KEYS: meta, user index, order list.
-- ARGV: message key prefix, conversation id, metadata key prefix.
local meta, uidx, order = KEYS[1], KEYS[2], KEYS[3]
local removed = 0
for _, s in ipairs(redis.call('LRANGE', order, 0, -1)) do
  removed = removed + redis.call('UNLINK', ARGV[1] .. s)
end
redis.call('UNLINK', meta, order)
redis.call('ZREM', uidx, ARGV[2])
local latest = 0
for _, id in ipairs(redis.call('ZRANGE', uidx, 0, -1)) do
  local at = redis.call('PEXPIRETIME', ARGV[3] .. id)
  if at == -2 then
    redis.call('ZREM', uidx, id)
  elseif at == -1 then
    latest = -1
    break
  elseif at > latest then
    latest = at
  end
end
if latest == -1 then
  redis.call('PERSIST', uidx)
elseif latest > 0 then
  redis.call('PEXPIREAT', uidx, latest)
end
return removed
