-- Delete a batch of one user's conversations, each whole: items, metadata, order lists,
-- turns, branches and usage, and its entry in the user's list; the user's list goes with
-- its last entry.
-- KEYS: user index, then per conversation: meta, order list, branches hash, and the order
--       lists of its other branches.
-- ARGV: per conversation: conversation id, message key prefix, how many other branches.
-- Returns {conversations deleted, items deleted}.
local uidx = KEYS[1]
local conversations, items = 0, 0
local k, a = 2, 1
while a <= #ARGV do
  local conv_id, mprefix, extra = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2])
  local meta, struct = KEYS[k], KEYS[k + 2]
  local orders = {KEYS[k + 1]}
  for i = 1, extra do orders[#orders + 1] = KEYS[k + 2 + i] end
  for _, order in ipairs(orders) do
    if redis.call('TYPE', order).ok == 'list' then
      for _, s in ipairs(redis.call('LRANGE', order, 0, -1)) do
        items = items + redis.call('UNLINK', mprefix .. s)
      end
    end
    redis.call('UNLINK', order)
  end
  conversations = conversations + redis.call('UNLINK', meta)
  redis.call('UNLINK', struct)
  redis.call('ZREM', uidx, conv_id)
  k, a = k + 3 + extra, a + 3
end
if redis.call('EXISTS', uidx) == 1 and redis.call('ZCARD', uidx) == 0 then
  redis.call('UNLINK', uidx)
end
return {conversations, items}
