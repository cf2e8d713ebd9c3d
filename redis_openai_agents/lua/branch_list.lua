-- Every branch of a conversation: id, creation time, item count and user turns, as one
-- JSON string, main first. Records the main turns of an older conversation once.
-- KEYS: meta, branches hash, main order list, then every other branch's order list.
-- ARGV: message key prefix, the live branches the keys were built for.
-- Returns {-1, live branches} when the keys were built for other branches.
local meta, struct, order = KEYS[1], KEYS[2], KEYS[3]
local live = redis.call('HGET', struct, 'branches') or ''
if live ~= ARGV[2] then return {-1, live} end
if redis.call('EXISTS', meta) == 0 then return '[]' end
ensure_main_turns(struct, order, ARGV[1])
follow_expiry(meta, struct, {}, ARGV[1], false)
local created = redis.call('HGET', meta, 'created_at')
local out = {{'main', tonumber(created), redis.call('LLEN', order),
              tonumber(redis.call('HGET', struct, 'n:main'))}}
for i, id in ipairs(split_ids(live)) do
  local info = cjson.decode(redis.call('HGET', struct, 'b:' .. id))
  out[#out + 1] = {id, info.created_at, redis.call('LLEN', KEYS[3 + i]),
                   tonumber(redis.call('HGET', struct, 'n:' .. id) or '0')}
end
return cjson.encode(out)
