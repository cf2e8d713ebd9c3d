-- Remove one item of a conversation, wherever it is (RedisVL MessageHistory's `drop`).
-- Runs inside write_once.lua, which first takes its last KEY and last two ARGV off.
-- KEYS: meta, user index, order list, branches hash, then the conversation's tag sets
--       (tag_sets.lua).
-- ARGV: message key prefix, conversation id, seq.
-- Returns 1 when the item was there, 0 when it was not, -1 when the conversation keeps
-- turns or branches, which may share the item (nothing written for 0 and -1).
local meta, uidx, order, branches = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
if redis.call('EXISTS', branches) == 1 then return -1 end
local mprefix, conv_id, seq = ARGV[1], ARGV[2], ARGV[3]
local tag_keys = take_tag_keys(tag_prefix_of(meta, conv_id))
local m = redis.call('HMGET', meta, 'tail', 'ttl_ms', 'expires_at_ms', 'tags')
if not m[1] then return 0 end
local tag_sets, refused = declared_tag_sets(tag_keys, decode_tags(m[4]),
                                            tag_prefix_of(meta, conv_id), m[4])
if refused then return refused end
-- Read the item before removing it: on a cluster slot being migrated, reading a hash
-- already moved stops the script, and it must stop before its first write.
redis.call('EXISTS', mprefix .. seq)
if redis.call('LREM', order, 1, seq) == 0 then return 0 end
redis.call('UNLINK', mprefix .. seq)
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local stamp = string.format('%d.%06d', tonumber(t[1]), tonumber(t[2]))
redis.call('HSET', meta, 'count', redis.call('LLEN', order), 'updated_at', stamp)
redis.call('ZADD', uidx, stamp, conv_id)
local tail = tonumber(m[1])
apply_ttl(meta, uidx, order, mprefix, tail, tail, now_ms, tonumber(m[2] or '0'),
          tonumber(m[3] or '0'), false, 1, '')
follow_tags(tag_sets, conv_id, stamp, meta, false, '')
return 1
