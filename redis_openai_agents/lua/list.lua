-- One page of a user's conversations, newest update first, skipping (and forgetting)
-- conversations that expired since they were listed. The page comes back as one JSON
-- string: one bulk reply parses far faster on the client than hundreds of nested ones.
-- KEYS: user index.  ARGV: metadata key prefix, offset, limit, then the field names.
local uidx, mprefix = KEYS[1], ARGV[1]
local offset, limit = tonumber(ARGV[2]), tonumber(ARGV[3])
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
local out = {}
local start = offset
while #out < limit do
  local ids = redis.call('ZREVRANGE', uidx, start, start + limit - 1)
  if #ids == 0 then break end
  local kept = 0
  for _, id in ipairs(ids) do
    local values = redis.call('HMGET', mprefix .. id, unpack(fields))
    if values[1] then
      kept = kept + 1
      if #out < limit then
        table.insert(values, 1, id)
        out[#out + 1] = values
      end
    else
      redis.call('ZREM', uidx, id)
    end
  end
  start = start + kept
end
if #out == 0 then return '[]' end
return cjson.encode(out)
