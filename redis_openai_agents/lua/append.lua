-- Append a batch of items to a conversation, creating it when needed: one atomic step.
-- Runs inside write_once.lua, which first takes its last KEY and last two ARGV off.
-- KEYS: meta, user index, order list of the branch written to, branches hash (see
--       branches.lua), then the order lists of every other branch, then the
--       conversation's tag sets (tag_sets.lua)
-- ARGV: message key prefix, entry id prefix, user id, conversation id, ttl ms ('' keeps
--       the stored ttl), agent name, title, item count, then 5 values per item:
--       role, content, tool_call_id, item json, extra json; then the branch id, the live
--       branches the keys were built for, and the count and batch offsets of user items.
-- Returns {tail, count, created}, or {-1, live branches} when the keys were built for
-- other branches, or {-2} when the branch does not exist; neither writes anything.
local meta, uidx, order, struct = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local mprefix, eprefix, user_id, conv_id = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local ttl_arg, agent, title, n = ARGV[5], ARGV[6], ARGV[7], tonumber(ARGV[8])
local tag_keys = take_tag_keys(tag_prefix_of(meta, conv_id))
local others = {unpack(KEYS, 5)}
local b = 9 + n * 5
local branch, users = ARGV[b], tonumber(ARGV[b + 2])
local s = redis.call('HMGET', struct, 'branches', 'n:' .. branch, 'b:' .. branch)
if (s[1] or '') ~= ARGV[b + 1] then return {-1, s[1] or ''} end
if branch ~= 'main' and not s[3] then return {-2} end

-- Times are whole microseconds (exact in a Lua number); items of one conversation get
-- strictly increasing timestamps, so MessageHistory's timestamp sort keeps their order.
local t = redis.call('TIME')
local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
local now_ms = math.floor(now_us / 1000)
local function seconds(us)
  return string.format('%d.%06d', math.floor(us / 1000000), us % 1000000)
end
local stamp = seconds(now_us)

-- Refuse before the first write, so a failure can never leave items half-stored (the
-- HMGETs of the metadata and the branches hash refuse other types by themselves).
local uidx_existed = 0
for _, pair in ipairs({{order, 'list'}, {uidx, 'zset'}}) do
  local kind = redis.call('TYPE', pair[1]).ok
  if kind ~= 'none' and kind ~= pair[2] then
    return redis.error_reply('WRONGTYPE ' .. pair[1] .. ' holds a ' .. kind .. ', not a ' .. pair[2])
  end
  if pair[1] == uidx and kind ~= 'none' then uidx_existed = 1 end
end

local m = redis.call('HMGET', meta, 'tail', 'count', 'last_us', 'ttl_ms',
                     'expires_at_ms', 'title', 'agents', 'tags')
local tag_sets, refused = declared_tag_sets(tag_keys, decode_tags(m[8]), tag_prefix_of(meta, conv_id), m[8])
if refused then return refused end
local created = not m[1]
local tail, count, last_us = 0, 0, 0
if not created then
  tail, count = tonumber(m[1]), tonumber(m[2])
  last_us = tonumber(m[3] or '0')
end
local stored_ttl = tonumber(m[4] or '0')
local ttl_ms = stored_ttl
if ttl_arg ~= '' then ttl_ms = tonumber(ttl_arg) end
local ttl_changed = created or ttl_ms ~= stored_ttl
local expires_at = tonumber(m[5] or '0')
local new_from = tail

-- On a cluster slot being migrated, touching a key that has already moved stops the
-- script: touch now, before the first write, every existing key apply_ttl will touch.
local restamp = ttl_changed or
  (ttl_ms > 0 and expires_at < now_ms + ttl_ms - math.floor(ttl_ms / 100))
if restamp then
  for _, s in ipairs(redis.call('LRANGE', order, 0, -1)) do redis.call('EXISTS', mprefix .. s) end
  touch_orders(struct, others, mprefix, true)
end
if ttl_changed and ttl_ms > 0 and redis.call('PEXPIRETIME', uidx) == -1 then
  local meta_prefix = string.sub(meta, 1, #meta - #conv_id)
  for _, id in ipairs(redis.call('ZRANGE', uidx, 0, -1)) do
    redis.call('EXISTS', meta_prefix .. id)
  end
end

-- Turns are kept from the first call that needs them on (see branches.lua), then here.
local turns = tonumber(s[2] or '0')

for i = 0, n - 1 do
  local o = 9 + i * 5
  local ts = now_us
  if ts <= last_us then ts = last_us + 1 end
  last_us = ts
  local fields = item_fields(eprefix .. tail, conv_id, user_id, ARGV[o], ARGV[o + 1],
                             seconds(ts), ARGV[o + 3], ARGV[o + 2], ARGV[o + 4])
  if branch ~= 'main' then fields[3] = 'branch'; fields[4] = branch end
  redis.call('HSET', mprefix .. tail, unpack(fields))
  tail = tail + 1
end

if n > 0 then
  local seqs = {}
  for s = new_from, tail - 1 do seqs[#seqs + 1] = s end
  for i = 1, #seqs, 1000 do
    redis.call('RPUSH', order, unpack(seqs, i, math.min(i + 999, #seqs)))
  end
end
if users > 0 and s[2] then
  local marks = {}
  for i = 1, users do
    turns = turns + 1
    marks[#marks + 1] = 't:' .. branch .. ':' .. turns
    marks[#marks + 1] = new_from + tonumber(ARGV[b + 2 + i])
  end
  redis.call('HSET', struct, 'n:' .. branch, turns, unpack(marks))
end
if branch == 'main' then count = count + n end
local fields = {'tail', tail, 'count', count, 'updated_at', stamp, 'last_us', last_us,
                'ttl_ms', ttl_ms}
local function set(field, value)
  fields[#fields + 1] = field
  fields[#fields + 1] = value
end
if created then
  set('user_id', user_id)
  set('conversation_id', conv_id)
  set('created_at', stamp)
end
if title ~= '' and not m[6] then set('title', title) end
if agent ~= '' then
  local ok, agents = pcall(cjson.decode, m[7] or '[]')
  if not ok or type(agents) ~= 'table' then agents = {} end
  local known = false
  for _, a in ipairs(agents) do if a == agent then known = true end end
  if not known then table.insert(agents, agent) end
  set('last_agent', agent)
  set('agents', cjson.encode(agents))
end
redis.call('HSET', meta, unpack(fields))

redis.call('ZADD', uidx, stamp, conv_id)
apply_ttl(meta, uidx, order, mprefix, new_from, tail, now_ms, ttl_ms,
          expires_at, ttl_changed, uidx_existed, string.sub(meta, 1, #meta - #conv_id))
-- The branches hash and the other branches' lists change expiry only with the metadata.
if restamp then follow_expiry(meta, struct, others, mprefix, true) end
follow_tags(tag_sets, conv_id, stamp, meta, ttl_changed, string.sub(meta, 1, #meta - #conv_id))
return {tail, count, created and 1 or 0}
