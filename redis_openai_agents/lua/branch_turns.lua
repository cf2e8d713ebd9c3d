-- The user turns of a branch: for turn k, its user message's item and timestamp, as one
-- JSON string [[k, item json, timestamp, seq], ...]. Records the main turns of a conversation
-- written before turns were kept (once; see branches.lua).
-- KEYS: meta, branches hash, main order list.  ARGV: branch id, message key prefix.
local meta, struct, order = KEYS[1], KEYS[2], KEYS[3]
local branch, mprefix = ARGV[1], ARGV[2]
if branch == 'main' and redis.call('EXISTS', meta) == 1 then
  ensure_main_turns(struct, order, mprefix)
  follow_expiry(meta, struct, {}, mprefix, false)
end
local out = {}
for k = 1, tonumber(redis.call('HGET', struct, 'n:' .. branch) or '0') do
  local seq = redis.call('HGET', struct, 't:' .. branch .. ':' .. k)
  if seq then
    local values = redis.call('HMGET', mprefix .. seq, 'metadata', 'timestamp')
    if values[1] then out[#out + 1] = {k, values[1], values[2] or '', seq} end
  end
end
if #out == 0 then return '[]' end
return cjson.encode(out)
