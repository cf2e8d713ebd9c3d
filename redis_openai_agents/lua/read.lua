-- Fields of the newest `limit` items (all when limit < 0), oldest first; a missing item
-- gives nil fields. Used for limited reads, and for whole reads where SORT_RO with GET
-- patterns is refused (ACL users without read access to every key, some clusters).
-- KEYS: order list.  ARGV: item key prefix, limit, then the field names.
local order, mprefix, limit = KEYS[1], ARGV[1], tonumber(ARGV[2])
if limit == 0 then return {} end
local fields = {}
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
local seqs
if limit < 0 then
  seqs = redis.call('LRANGE', order, 0, -1)
else
  seqs = redis.call('LRANGE', order, -limit, -1)
end
local out = {}
local width = #fields
for i, seq in ipairs(seqs) do
  local base = (i - 1) * width
  if width == 1 then
    out[base + 1] = redis.call('HGET', mprefix .. seq, fields[1])
  else
    local values = redis.call('HMGET', mprefix .. seq, unpack(fields))
    for j = 1, width do out[base + j] = values[j] end
  end
end
return out
