-- Replace a conversation's newest items with the SDK's compacted ones, only while they are
-- exactly the items a snapshot read; optionally drop expired items at its start too.
-- Runs inside write_once.lua, which first takes its last KEY and last two ARGV off.
-- KEYS: meta, user index, order list, branches hash (turns and branches, see branching.py),
--       then the conversation's tag sets (tag_sets.lua)
-- ARGV: message key prefix, entry id prefix, user id, conversation id, created_at the
--       snapshot saw, suffix length, suffix digest, head length to drop, head digest,
--       item count, then 4 values per item: role, content, tool_call_id, item json.
-- A digest is the SHA1 of "seq\nbytes\njson" per item, joined by "\n" (see compaction.py).
-- Returns 1 when replaced, 0 when the suffix changed since the snapshot or the
-- conversation keeps turns or branches, whose items it would rewrite (nothing written).
local meta, uidx, order, branches = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local mprefix, eprefix, user_id, conv_id = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local generation, k, suffix_digest = ARGV[5], tonumber(ARGV[6]), ARGV[7]
local p, head_digest, n = tonumber(ARGV[8]), ARGV[9], tonumber(ARGV[10])
local tag_keys = take_tag_keys(tag_prefix_of(meta, conv_id))

local function digest(seqs)
  local parts = {}
  for i, s in ipairs(seqs) do
    local raw = redis.call('HGET', mprefix .. s, 'metadata')
    if not raw then return '' end
    parts[i] = s .. '\n' .. #raw .. '\n' .. raw
  end
  return redis.sha1hex(table.concat(parts, '\n'))
end

if redis.call('EXISTS', branches) == 1 then return 0 end
local m = redis.call('HMGET', meta, 'created_at', 'tail', 'last_us', 'ttl_ms', 'expires_at_ms',
                     'tags')
if not m[1] or m[1] ~= generation or k < 1 then return 0 end
local tag_sets, refused = declared_tag_sets(tag_keys, decode_tags(m[6]),
                                            tag_prefix_of(meta, conv_id), m[6])
if refused then return refused end
local length = redis.call('LLEN', order)
if length < k then return 0 end
local suffix = redis.call('LRANGE', order, -k, -1)
if digest(suffix) ~= suffix_digest then return 0 end
local head = {}
if p > 0 and p + k <= length then head = redis.call('LRANGE', order, 0, p - 1) end
if #head == 0 or digest(head) ~= head_digest then head = {} end
p = #head

local t = redis.call('TIME')
local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
local now_ms = math.floor(now_us / 1000)
local function seconds(us)
  return string.format('%d.%06d', math.floor(us / 1000000), us % 1000000)
end
local stamp = seconds(now_us)
local tail, last_us = tonumber(m[2]), tonumber(m[3] or '0')
local ttl_ms, expires_at = tonumber(m[4] or '0'), tonumber(m[5] or '0')

-- On a cluster slot being migrated, touching a key that has already moved stops the
-- script: touch before the first write every existing key apply_ttl may touch.
if ttl_ms > 0 and expires_at < now_ms + ttl_ms - math.floor(ttl_ms / 100) then
  for _, s in ipairs(redis.call('LRANGE', order, 0, -1)) do redis.call('EXISTS', mprefix .. s) end
end

for _, group in ipairs({suffix, head}) do
  for _, s in ipairs(group) do redis.call('UNLINK', mprefix .. s) end
end
local last_kept = length - k - 1
if last_kept < p then
  redis.call('UNLINK', order)
else
  redis.call('LTRIM', order, p, last_kept)
end

local new_from = tail
for i = 0, n - 1 do
  local o = 11 + i * 4
  local ts = now_us
  if ts <= last_us then ts = last_us + 1 end
  last_us = ts
  redis.call('HSET', mprefix .. tail, unpack(item_fields(
    eprefix .. tail, conv_id, user_id, ARGV[o], ARGV[o + 1], seconds(ts), ARGV[o + 3],
    ARGV[o + 2])))
  tail = tail + 1
end
if n > 0 then
  local seqs = {}
  for s = new_from, tail - 1 do seqs[#seqs + 1] = s end
  for i = 1, #seqs, 1000 do
    redis.call('RPUSH', order, unpack(seqs, i, math.min(i + 999, #seqs)))
  end
end

redis.call('HSET', meta, 'tail', tail, 'count', redis.call('LLEN', order),
           'updated_at', stamp, 'last_us', last_us)
redis.call('ZADD', uidx, stamp, conv_id)
apply_ttl(meta, uidx, order, mprefix, new_from, tail, now_ms, ttl_ms, expires_at, false, 1,
          string.sub(meta, 1, #meta - #conv_id))
follow_tags(tag_sets, conv_id, stamp, meta, false, '')
return 1
