-- Delete one conversation: its messages, its metadata, its turns, branches and usage,
-- and its entry in the user's list.
-- Runs inside write_once.lua, which first takes its last KEY and last two ARGV off.
-- The user's list then expires with the last of the conversations it still names.
-- KEYS: meta, user index, order list, branches hash, then every other branch's order list,
--       then the conversation's tag sets (tag_sets.lua).
-- ARGV: message key prefix, conversation id, metadata key prefix, the live branches the
--       keys were built for.
-- Returns the number of items deleted, or {-1, live branches} when the keys were built
-- for other branches (nothing deleted).
local meta, uidx, order, struct = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local tag_keys = take_tag_keys(tag_prefix_of(meta, ARGV[2]))
local live = redis.call('HGET', struct, 'branches') or ''
if live ~= ARGV[4] then return {-1, live} end
local raw_tags = redis.call('HGET', meta, 'tags')
local tag_sets, refused = declared_tag_sets(tag_keys, decode_tags(raw_tags), tag_prefix_of(meta, ARGV[2]), raw_tags)
if refused then return refused end
local removed = 0
for i = 3, #KEYS do
  if i ~= 4 then
    for _, s in ipairs(redis.call('LRANGE', KEYS[i], 0, -1)) do
      removed = removed + redis.call('UNLINK', ARGV[1] .. s)
    end
    redis.call('UNLINK', KEYS[i])
  end
end
redis.call('UNLINK', meta, struct)
redis.call('ZREM', uidx, ARGV[2])
leave_tags(tag_sets, ARGV[2], ARGV[3])
expire_user_index(uidx, ARGV[3])
return removed
