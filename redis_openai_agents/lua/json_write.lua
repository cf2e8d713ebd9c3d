-- Every write to a JSONSession document: create it when missing, apply one change,
-- stamp it and slide its expiry, atomically.
-- KEYS: document.  ARGV: op, ttl ms ('' keeps the stored ttl), operands...
--   set <path> <json>   del <path>   append <json>...   pop   clear_items
local key, op, ttl_arg = KEYS[1], ARGV[1], ARGV[2]
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local stamp = string.format('%.6f', now)
local exists = redis.call('EXISTS', key) == 1
if not exists then
  if op == 'del' or op == 'pop' or op == 'clear_items' then return false end
  redis.call('JSON.SET', key, '$',
    '{"data":{},"items":[],"created_at":' .. stamp .. ',"updated_at":' .. stamp .. ',"ttl_ms":0}')
end
local result = false
if op == 'set' then
  redis.call('JSON.SET', key, ARGV[3], ARGV[4])
  result = 1
elseif op == 'del' then
  result = redis.call('JSON.DEL', key, ARGV[3])
elseif op == 'append' then
  result = redis.call('JSON.ARRAPPEND', key, '$.items', unpack(ARGV, 3))[1]
elseif op == 'pop' then
  result = redis.call('JSON.ARRPOP', key, '$.items')[1]
elseif op == 'clear_items' then
  result = redis.call('JSON.CLEAR', key, '$.items')
else
  return redis.error_reply('unknown JSONSession operation ' .. op)
end
redis.call('JSON.SET', key, '$.updated_at', stamp)
local ttl_ms
if ttl_arg ~= '' then
  ttl_ms = tonumber(ttl_arg)
  redis.call('JSON.SET', key, '$.ttl_ms', ttl_arg)
else
  ttl_ms = tonumber(redis.call('JSON.GET', key, '$.ttl_ms'):sub(2, -2)) or 0
end
if ttl_ms > 0 then
  redis.call('PEXPIRE', key, ttl_ms)
end
return result
