-- One page of a user's conversations carrying every one of several tags (one tag's set is
-- listed by list.lua), newest update first,
-- skipping (and forgetting) conversations that expired since they were tagged. It walks
-- the smallest tag set in order and keeps the ids the other sets hold too, so a page costs
-- what it reads: the page itself for one tag, more only for tags that rarely meet.
-- KEYS: the tag sets.  ARGV: metadata key prefix, offset, limit, then the field names.
-- Returns the page as one JSON string, as list.lua does.
local mprefix = ARGV[1]
local offset, limit = tonumber(ARGV[2]), tonumber(ARGV[3])
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
local walk, size = 1, redis.call('ZCARD', KEYS[1])
for i = 2, #KEYS do
  local n = redis.call('ZCARD', KEYS[i])
  if n < size then walk, size = i, n end
end
local out, matched, start = {}, 0, 0
local chunk = math.max(limit, 10)
while #out < limit do
  local ids = redis.call('ZREVRANGE', KEYS[walk], start, start + chunk - 1)
  if #ids == 0 then break end
  local forgotten = 0
  for _, id in ipairs(ids) do
    local everywhere = true
    for i = 1, #KEYS do
      if i ~= walk and not redis.call('ZSCORE', KEYS[i], id) then
        everywhere = false
        break
      end
    end
    if everywhere then
      if redis.call('EXISTS', mprefix .. id) == 0 then
        for i = 1, #KEYS do redis.call('ZREM', KEYS[i], id) end
        forgotten = forgotten + 1
      else
        matched = matched + 1
        if matched > offset and #out < limit then
          local values = redis.call('HMGET', mprefix .. id, unpack(fields))
          table.insert(values, 1, id)
          out[#out + 1] = values
        end
      end
    end
  end
  start = start + #ids - forgotten
end
if #out == 0 then return '[]' end
return cjson.encode(out)
