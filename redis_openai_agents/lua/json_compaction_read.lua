-- A JSONSession's conversation items from a position on, with what tells whether they
-- changed later: one atomic read for the SDK's compaction snapshot.
-- KEYS: document.
-- ARGV: first position (negative counts from the end), how many items at most.
-- Returns {created_at json ('' for no document), item count, item json each (RedisJSON's
-- own text, the same bytes the replacing script compares)}.
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 then return {'', 0, {}} end
local length = redis.call('JSON.ARRLEN', key, '$.items')[1] or 0
local first, most = tonumber(ARGV[1]), tonumber(ARGV[2])
if first < 0 then first = math.max(length + first, 0) end
local items = {}
for i = first, math.min(first + most, length) - 1 do
  items[#items + 1] = redis.call('JSON.GET', key, '$.items[' .. i .. ']')
end
return {redis.call('JSON.GET', key, '$.created_at'), length, items}
