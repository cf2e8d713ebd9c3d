-- Stored usage per turn of one branch, or of every live branch, as one JSON string
-- [[branch id, turn, usage json], ...] in branch then turn order.
-- KEYS: branches hash.  ARGV: branch id ('' for every branch).
local struct = KEYS[1]
local branches = {ARGV[1]}
if ARGV[1] == '' then
  branches = split_ids(redis.call('HGET', struct, 'branches') or '')
  table.insert(branches, 1, 'main')
end
local out = {}
for _, id in ipairs(branches) do
  for k = 1, tonumber(redis.call('HGET', struct, 'n:' .. id) or '0') do
    local usage = redis.call('HGET', struct, 'u:' .. id .. ':' .. k)
    if usage then out[#out + 1] = {id, k, usage} end
  end
end
if #out == 0 then return '[]' end
return cjson.encode(out)
