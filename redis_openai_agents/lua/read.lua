-- Read fields of the newest `limit` items (all when limit < 0), newest first.
-- KEYS: meta.  ARGV: message key prefix, limit, then the field names.
local mprefix, limit = ARGV[1], tonumber(ARGV[2])
local fields = {}
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
local single = #fields == 1
local m = redis.call('HMGET', KEYS[1], 'head', 'tail')
if not m[2] then return {} end
local head, tail = tonumber(m[1]), tonumber(m[2])
local out = {}
local found = 0
local s = tail - 1
while s >= head and (limit < 0 or found < limit) do
  if single then
    local value = redis.call('HGET', mprefix .. s, fields[1])
    if value then
      found = found + 1
      out[found] = value
    end
  else
    local values = redis.call('HMGET', mprefix .. s, unpack(fields))
    if values[1] then
      found = found + 1
      for _, v in ipairs(values) do out[#out + 1] = v end
    end
  end
  s = s - 1
end
return out
