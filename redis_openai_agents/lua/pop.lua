-- Remove and return the newest item of a conversation.
-- Runs inside write_once.lua, which first takes its last KEY and last two ARGV off.
-- KEYS: meta, user index, order list, then the conversation's tag sets (tag_sets.lua).
-- ARGV: message key prefix, conversation id.
local meta, uidx, order = KEYS[1], KEYS[2], KEYS[3]
local mprefix, conv_id = ARGV[1], ARGV[2]
local m = redis.call('HMGET', meta, 'tail', 'count', 'ttl_ms', 'expires_at_ms', 'tags')
if not m[1] then return false end
local tag_sets, refused = declared_tag_sets(4, decode_tags(m[5]), tag_prefix_of(meta, conv_id), m[5])
if refused then return refused end
local count = tonumber(m[2])
local popped = false
-- Read the item before removing it: on a cluster slot being migrated, reading a hash
-- already moved stops the script, and it must stop before its first write.
while not popped do
  local seq = redis.call('LINDEX', order, -1)
  if not seq then break end
  popped = redis.call('HGET', mprefix .. seq, 'metadata')
  redis.call('RPOP', order)
  redis.call('UNLINK', mprefix .. seq)
end
if not popped then return false end
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local stamp = string.format('%d.%06d', tonumber(t[1]), tonumber(t[2]))
if count > 0 then count = count - 1 end
redis.call('HSET', meta, 'count', count, 'updated_at', stamp)
redis.call('ZADD', uidx, stamp, conv_id)
local tail = tonumber(m[1])
apply_ttl(meta, uidx, order, mprefix, tail, tail, now_ms, tonumber(m[3] or '0'),
          tonumber(m[4] or '0'), false, 1, '')
follow_tags(tag_sets, conv_id, stamp, meta, false, '')
return popped
