-- Delete one conversation: its messages, its metadata and its entry in the user's list.
-- Runs inside write_once.lua, which first takes its last KEY and last two ARGV off.
-- The user's list then expires with the last of the conversations it still names.
-- KEYS: meta, user index, order list, then the conversation's tag sets (tag_sets.lua).
-- ARGV: message key prefix, conversation id, metadata key prefix.
local meta, uidx, order = KEYS[1], KEYS[2], KEYS[3]
local raw_tags = redis.call('HGET', meta, 'tags')
local tag_sets, refused = declared_tag_sets(4, decode_tags(raw_tags), tag_prefix_of(meta, ARGV[2]), raw_tags)
if refused then return refused end
local removed = 0
for _, s in ipairs(redis.call('LRANGE', order, 0, -1)) do
  removed = removed + redis.call('UNLINK', ARGV[1] .. s)
end
redis.call('UNLINK', meta, order)
redis.call('ZREM', uidx, ARGV[2])
leave_tags(tag_sets, ARGV[2], ARGV[3])
expire_user_index(uidx, ARGV[3])
return removed
