-- Set, add or remove the tags of one conversation and keep the per-tag sets in step.
-- Tagging is not a write to the conversation: its updated_at, order and expiry stay.
-- Runs inside write_once.lua, which first takes its last KEY and last two ARGV off.
-- KEYS: meta, user index, then the sets of the tags the conversation carries and of the
--       tags given (see tag_sets.lua).
-- ARGV: op ('set', 'add' or 'remove'), conversation id, metadata key prefix, then tags.
-- Returns the conversation's tags as a JSON array; false when it does not exist.
local meta, uidx = KEYS[1], KEYS[2]
local op, conv_id, meta_prefix = ARGV[1], ARGV[2], ARGV[3]
if op ~= 'set' and op ~= 'add' and op ~= 'remove' then
  return redis.error_reply('ERR unknown tag operation ' .. op)
end
local m = redis.call('HMGET', meta, 'user_id', 'tags')
if not m[1] then return false end
local prefix = tag_prefix_of(meta, conv_id)
local given_keys = take_tag_keys(prefix)
local old = decode_tags(m[2])
local given = {}
for i = 4, #ARGV do given[#given + 1] = ARGV[i] end

local new, seen = {}, {}
local function keep(tag)
  if not seen[tag] then seen[tag] = true; new[#new + 1] = tag end
end
if op == 'set' then
  for _, tag in ipairs(given) do keep(tag) end
else
  local dropped = {}
  if op == 'remove' then for _, tag in ipairs(given) do dropped[tag] = true end end
  for _, tag in ipairs(old) do if not dropped[tag] then keep(tag) end end
  if op == 'add' then for _, tag in ipairs(given) do keep(tag) end end
end

local had = {}
local both = {}
for _, tag in ipairs(old) do had[tag] = true; both[#both + 1] = tag end
for _, tag in ipairs(new) do if not had[tag] then both[#both + 1] = tag end end
local _, refused = declared_tag_sets(given_keys, both, prefix, m[2])
if refused then return refused end

local removed, added = {}, {}
for _, tag in ipairs(old) do if not seen[tag] then removed[#removed + 1] = prefix .. tag end end
for _, tag in ipairs(new) do if not had[tag] then added[#added + 1] = prefix .. tag end end
if #new == 0 then
  redis.call('HDEL', meta, 'tags')
else
  redis.call('HSET', meta, 'tags', cjson.encode(new))
end
leave_tags(removed, conv_id, meta_prefix)
local score = redis.call('ZSCORE', uidx, conv_id)
if not score then score = redis.call('HGET', meta, 'updated_at') or redis.call('HGET', meta, 'created_at') end
follow_tags(added, conv_id, score, meta, false, meta_prefix)
if #new == 0 then return '[]' end
return cjson.encode(new)
