-- Remove and return the newest item of a conversation's branch.
-- Runs inside write_once.lua, which first takes its last KEY and last two ARGV off.
-- KEYS: meta, user index, order list of the branch, branches hash, then the order lists
--       of every other branch, then the conversation's tag sets (tag_sets.lua).
-- ARGV: message key prefix, conversation id, branch id, the live branches the keys were
--       built for.
-- Returns the item, false when there is none, or {-1, live branches} when the keys were
-- built for other branches (nothing written).
local meta, uidx, order, struct = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local mprefix, conv_id, branch = ARGV[1], ARGV[2], ARGV[3]
local tag_keys = take_tag_keys(tag_prefix_of(meta, conv_id))
local others = {unpack(KEYS, 5)}
local live = redis.call('HGET', struct, 'branches') or ''
if live ~= ARGV[4] then return {-1, live} end
local m = redis.call('HMGET', meta, 'tail', 'count', 'ttl_ms', 'expires_at_ms', 'tags')
if not m[1] then return false end
local tag_sets, refused = declared_tag_sets(tag_keys, decode_tags(m[5]), tag_prefix_of(meta, conv_id), m[5])
if refused then return refused end
local count = tonumber(m[2])
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl_ms, expires_at = tonumber(m[3] or '0'), tonumber(m[4] or '0')
touch_orders(struct, others, mprefix,
             ttl_ms > 0 and expires_at < now_ms + ttl_ms - math.floor(ttl_ms / 100))
local turns = tonumber(redis.call('HGET', struct, 'n:' .. branch) or '0')
local popped = false
-- Read the item before removing it: on a cluster slot being migrated, reading a hash
-- already moved stops the script, and it must stop before its first write.
while not popped do
  local seq = redis.call('LINDEX', order, -1)
  if not seq then break end
  popped = redis.call('HGET', mprefix .. seq, 'metadata')
  redis.call('RPOP', order)
  if release_item(struct, mprefix, seq) == 0 and branch == 'main' then
    -- Still on a branch: no longer part of the main conversation MessageHistory reads.
    redis.call('HDEL', mprefix .. seq, 'session_tag')
  end
  if turns > 0 and redis.call('HGET', struct, 't:' .. branch .. ':' .. turns) == seq then
    redis.call('HDEL', struct, 't:' .. branch .. ':' .. turns, 'u:' .. branch .. ':' .. turns)
    turns = turns - 1
    redis.call('HSET', struct, 'n:' .. branch, turns)
  end
end
if not popped then return false end
local stamp = string.format('%d.%06d', tonumber(t[1]), tonumber(t[2]))
if count > 0 and branch == 'main' then count = count - 1 end
redis.call('HSET', meta, 'count', count, 'updated_at', stamp)
redis.call('ZADD', uidx, stamp, conv_id)
local tail = tonumber(m[1])
apply_ttl(meta, uidx, order, mprefix, tail, tail, now_ms, ttl_ms, expires_at, false, 1, '')
local stamped = tonumber(redis.call('HGET', meta, 'expires_at_ms') or '0')
follow_expiry(meta, struct, others, mprefix, stamped ~= expires_at)
follow_tags(tag_sets, conv_id, stamp, meta, false, '')
return popped
