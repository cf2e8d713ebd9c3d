-- Delete a batch of one user's conversations, each whole: items, metadata, order list and
-- its entry in the user's list; the user's list goes with its last entry.
-- KEYS: user index, then per conversation: meta, order list.
-- ARGV: per conversation: conversation id, message key prefix.
-- Returns {conversations deleted, items deleted}.
local uidx = KEYS[1]
local conversations, items = 0, 0
for i = 2, #KEYS, 2 do
  local meta, order = KEYS[i], KEYS[i + 1]
  local conv_id, mprefix = ARGV[i - 1], ARGV[i]
  if redis.call('TYPE', order).ok == 'list' then
    for _, s in ipairs(redis.call('LRANGE', order, 0, -1)) do
      items = items + redis.call('UNLINK', mprefix .. s)
    end
  end
  conversations = conversations + redis.call('UNLINK', meta)
  redis.call('UNLINK', order)
  redis.call('ZREM', uidx, conv_id)
end
if redis.call('EXISTS', uidx) == 1 and redis.call('ZCARD', uidx) == 0 then
  redis.call('UNLINK', uidx)
end
return {conversations, items}
