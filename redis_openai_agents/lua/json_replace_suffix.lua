-- Replace a JSONSession's newest conversation items with the SDK's compacted ones, only
-- while they are exactly the items a snapshot read; optionally drop expired items at the
-- start too. Runs inside write_once.lua, which first takes its last KEY and last two ARGV
-- off.
-- KEYS: document.
-- ARGV: ttl ms ('' keeps the stored ttl), created_at json the snapshot saw, suffix
--       length, suffix digest, head length to drop, head digest, then the new items' json.
-- A digest is the SHA1 of "bytes\njson" per item, joined by "\n" (see compaction.py).
-- Returns 1 when replaced, 0 when the suffix changed since the snapshot (nothing written).
local key, ttl_arg, generation = KEYS[1], ARGV[1], ARGV[2]
local k, suffix_digest = tonumber(ARGV[3]), ARGV[4]
local p, head_digest = tonumber(ARGV[5]), ARGV[6]

local function digest(first, last)
  local parts = {}
  for i = first, last do
    local raw = redis.call('JSON.GET', key, '$.items[' .. i .. ']')
    parts[#parts + 1] = #raw .. '\n' .. raw
  end
  return redis.sha1hex(table.concat(parts, '\n'))
end

if redis.call('EXISTS', key) == 0 or k < 1 then return 0 end
if redis.call('JSON.GET', key, '$.created_at') ~= generation then return 0 end
local length = redis.call('JSON.ARRLEN', key, '$.items')[1] or 0
if length < k or digest(length - k, length - 1) ~= suffix_digest then return 0 end
if p < 1 or p + k > length or digest(0, p - 1) ~= head_digest then p = 0 end

-- The new items go in before the old suffix, in one command that stores all or none of
-- them; one trim then drops the old suffix and the expired head. More items than one
-- command carries are set with the kept ones as one new array instead.
local out = #ARGV - 6
if out > 1000 then
  local kept = '[]'
  if length - k > p then
    kept = redis.call('JSON.GET', key, '$.items[' .. p .. ':' .. (length - k) .. ']')
  end
  local parts = {}
  if #kept > 2 then parts[1] = string.sub(kept, 2, -2) end
  for i = 7, #ARGV do parts[#parts + 1] = ARGV[i] end
  redis.call('JSON.SET', key, '$.items', '[' .. table.concat(parts, ',') .. ']')
else
  if out > 0 then
    redis.call('JSON.ARRINSERT', key, '$.items', length - k, unpack(ARGV, 7, #ARGV))
  end
  local last = length - k + out - 1
  if last < p then
    redis.call('JSON.SET', key, '$.items', '[]')
  else
    redis.call('JSON.ARRTRIM', key, '$.items', p, last)
  end
end
local t = redis.call('TIME')
stamp_document(key, string.format('%d.%06d', tonumber(t[1]), tonumber(t[2])), ttl_arg)
return 1
